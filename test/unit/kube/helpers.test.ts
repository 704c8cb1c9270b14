import assert from 'node:assert/strict';

import { truncateUtf8 } from '../../../src/kube/event-recorder.js';
import { objectKey, parseNamespacedName, splitObjectKey } from '../../../src/kube/resource.js';
import { parseListenAddress } from '../../../src/observability/http-server.js';

describe('kube helpers', () => {
  it('builds and splits object keys', () => {
    assert.equal(objectKey({ metadata: { namespace: 'apps', name: 'web' } }), 'apps/web');
    assert.equal(objectKey({ metadata: { name: 'cluster-wide' } }), 'cluster-wide');
    assert.deepEqual(splitObjectKey('apps/web'), { namespace: 'apps', name: 'web' });
    assert.deepEqual(splitObjectKey('cluster-wide'), { namespace: '', name: 'cluster-wide' });
  });

  it('rejects an object without name', () => {
    assert.throws(
      () => objectKey({ kind: 'Widget', metadata: {} }),
      /object of kind Widget has no metadata.name/,
    );
  });

  it('parses namespace/name', () => {
    assert.deepEqual(parseNamespacedName('ops/clouds', '--default-cloud-secret'), {
      namespace: 'ops',
      name: 'clouds',
    });
    assert.throws(
      () => parseNamespacedName('ops/clouds/x', '--default-cloud-secret'),
      /invalid --default-cloud-secret "ops\/clouds\/x": expected namespace\/name/,
    );
  });

  it('parses listen addresses', () => {
    assert.deepEqual(parseListenAddress(':8080'), { host: undefined, port: 8080 });
    assert.deepEqual(parseListenAddress('127.0.0.1:0'), { host: '127.0.0.1', port: 0 });
    assert.deepEqual(parseListenAddress('[::1]:9000'), { host: '::1', port: 9000 });
    assert.throws(() => parseListenAddress('8080'), /invalid bind address "8080"/);
    assert.throws(() => parseListenAddress('127.0.0.1:70000'), /port from 0 to 65535/);
  });

  it('truncates notes without splitting characters', () => {
    assert.equal(truncateUtf8('short', 10), 'short');
    const cut = truncateUtf8('é'.repeat(10), 10);
    assert.equal(cut, 'ééé...');
    assert.ok(Buffer.byteLength(cut) <= 10);
  });
});
