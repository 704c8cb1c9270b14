import assert from 'node:assert/strict';

import type { CatalogEntry } from '../../../src/openstack/auth.js';
import { selectEndpoint, versionedBaseUrl } from '../../../src/openstack/catalog.js';
import { OpenStackLookupError } from '../../../src/openstack/errors.js';
import {
  clientMaxMicroversion,
  negotiateMicroversion,
  versionDocumentUrl,
} from '../../../src/openstack/microversion.js';

const catalog: CatalogEntry[] = [
  {
    type: 'compute',
    endpoints: [
      { interface: 'public', regionId: 'RegionOne', url: 'https://nova.one/v2.1' },
      { interface: 'internal', regionId: 'RegionOne', url: 'http://nova.one.internal/v2.1' },
      { interface: 'public', regionId: 'RegionTwo', url: 'https://nova.two/v2.1/' },
    ],
  },
  {
    type: 'image',
    endpoints: [{ interface: 'public', regionId: 'RegionOne', url: 'https://glance.one' }],
  },
];

describe('OpenStack catalog', () => {
  it('selects by interface and region', () => {
    const url = selectEndpoint(catalog, {
      service: 'compute',
      interface: 'internal',
      regionName: 'RegionOne',
      cloudName: 'c',
    });
    assert.equal(url, 'http://nova.one.internal/v2.1');
  });

  it('strips a trailing slash', () => {
    const url = selectEndpoint(catalog, {
      service: 'compute',
      interface: 'public',
      regionName: 'RegionTwo',
      cloudName: 'c',
    });
    assert.equal(url, 'https://nova.two/v2.1');
  });

  it('requires a region among several', () => {
    assert.throws(
      () => selectEndpoint(catalog, { service: 'compute', interface: 'public', cloudName: 'c' }),
      (err: Error) =>
        err instanceof OpenStackLookupError && /set region_name to choose/.test(err.message),
    );
  });

  it('lists service types for a missing one', () => {
    assert.throws(
      () => selectEndpoint(catalog, { service: 'network', interface: 'public', cloudName: 'c' }),
      /network endpoint "of type network" not found in cloud "c"; use one of: compute, image/,
    );
  });

  it('appends the API version', () => {
    assert.equal(versionedBaseUrl('image', 'https://glance.one'), 'https://glance.one/v2');
    assert.equal(
      versionedBaseUrl('network', 'https://neutron.one:9696/'),
      'https://neutron.one:9696/v2.0',
    );
    assert.equal(
      versionedBaseUrl('compute', 'https://nova.one/compute'),
      'https://nova.one/compute/v2.1',
    );
    assert.equal(
      versionedBaseUrl('compute', 'https://nova.one/v2.1/6f1c0d2e'),
      'https://nova.one/v2.1/6f1c0d2e',
    );
  });
});

describe('OpenStack compute microversion', () => {
  it('caps at the server maximum', () => {
    assert.equal(
      negotiateMicroversion({ version: { version: '2.60', min_version: '2.1' } }, '/v2.1/'),
      '2.60',
    );
  });

  it('caps at the client maximum', () => {
    assert.equal(
      negotiateMicroversion({ version: { version: '2.100', min_version: '2.1' } }, '/v2.1/'),
      clientMaxMicroversion,
    );
  });

  it('reads the versions list', () => {
    const document = {
      versions: [
        { id: 'v2.0', status: 'SUPPORTED', version: '', min_version: '' },
        { id: 'v2.1', status: 'CURRENT', version: '2.93', min_version: '2.1' },
      ],
    };
    assert.equal(negotiateMicroversion(document, '/'), '2.93');
  });

  it('rejects a legacy v2.0 endpoint', () => {
    assert.throws(
      () =>
        negotiateMicroversion({ version: { id: 'v2.0', version: '', min_version: '' } }, '/v2/'),
      /does not support microversions/,
    );
  });

  it('drops the project ID from the version URL', () => {
    assert.equal(versionDocumentUrl('https://nova.one/v2.1/6f1c0d2e'), 'https://nova.one/v2.1/');
    assert.equal(
      versionDocumentUrl('https://nova.one/compute/v2.1'),
      'https://nova.one/compute/v2.1/',
    );
  });
});
