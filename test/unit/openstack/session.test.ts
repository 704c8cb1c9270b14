/**
 * Session behaviour that needs control over token lifetimes and the catalog,
 * against the fake cloud of fake-openstack.ts: Keystone issues tokens for an
 * hour at least, so expiry cannot be waited for on a real one.
 */
import assert from 'node:assert/strict';

import {
  cloudConfigFromString,
  OpenStackClientCache,
  OpenStackLookupError,
  openCloud,
  type OpenStackClient,
} from '../../../src/openstack/index.js';
import { sendJson, startFakeOpenStack, type FakeOpenStack } from './fake-openstack.js';

const serverBody = { server: { id: 'srv-1', name: 'web', status: 'ACTIVE' } };

describe('OpenStack session', () => {
  let fake: FakeOpenStack;
  let client: OpenStackClient | undefined;

  beforeEach(async () => {
    fake = await startFakeOpenStack();
    fake.handler = (_request, response) => {
      sendJson(response, 200, serverBody);
      return true;
    };
  });

  afterEach(async () => {
    await client?.close();
    client = undefined;
    await fake.close();
  });

  it('shares the first authentication', async () => {
    client = openCloud(fake.config());

    await Promise.all(Array.from({ length: 10 }, () => client!.compute.getServer('srv-1')));

    assert.equal(fake.tokensIssued.length, 1);
  });

  it('re-authenticates before the token expires', async () => {
    // A 1 s token is refreshed after half its lifetime, before any service rejects it.
    fake.tokenLifetimeMs = 1000;
    client = openCloud(fake.config());
    await client.compute.getServer('srv-1');

    await new Promise((resolve) => setTimeout(resolve, 600));
    await client.compute.getServer('srv-1');
    const serverRequests = fake.requestsTo('/compute/v2.1/servers/srv-1');

    assert.equal(fake.tokensIssued.length, 2);
    assert.equal(serverRequests[0]?.token, fake.tokensIssued[0]);
    assert.equal(serverRequests[1]?.token, fake.tokensIssued[1]);
  });

  it('substitutes the project ID in overrides', async () => {
    client = openCloud(
      fake.config(`    network_endpoint_override: ${fake.baseUrl}/net/{project_id}`),
    );

    assert.equal(await client.session.endpoint('network'), `${fake.baseUrl}/net/project-1/v2.0`);
  });

  it('names the missing catalog region', async () => {
    client = openCloud({ ...fake.config(), regionName: 'RegionTwo' });

    const err = await client.session.endpoint('compute').catch((caught: unknown) => caught);

    assert.ok(err instanceof OpenStackLookupError);
    assert.equal(err.errorClass, 'notFound');
    assert.equal(
      err.message,
      'compute endpoint "with interface public in region RegionTwo" not found in cloud "fake" (region RegionTwo); use one of: public in RegionOne',
    );
  });

  it('opens a new session after rotation', async () => {
    const cache = new OpenStackClientCache();
    const cloudsYaml = (password: string) =>
      `clouds:\n  prod:\n    auth:\n      auth_url: ${fake.baseUrl}/identity/v3\n      user_id: u1\n      password: ${password}\n      project_id: p1\n`;

    const first = cache.get(cloudConfigFromString(cloudsYaml('old-password')));
    const again = cache.get(cloudConfigFromString(cloudsYaml('old-password')));
    const rotated = cache.get(cloudConfigFromString(cloudsYaml('new-password')));

    assert.equal(again, first);
    assert.notEqual(rotated, first);
    assert.notEqual(rotated.session.configHash, first.session.configHash);
    assert.equal(cache.size, 2);
    await cache.close();
  });
});
