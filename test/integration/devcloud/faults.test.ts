import assert from 'node:assert/strict';

import { devCloudAdmin, startDevCloud, type DevCloud } from '../../support/devcloud.js';
import { call, type Session } from '../../support/openstack-http.js';
import { createServer, memberSession, uploadImage, waitForStatus } from './helpers.js';

describe('dev cloud fault injection', function () {
  let cloud: DevCloud;
  let session: Session;
  let imageId: string;

  before(async function () {
    cloud = await startDevCloud({
      name: 'devcloud-faults',
      extraArgs: ['--fail-flavor', 'm1.nano', '--fail-image', 'broken/app:1'],
    });
    session = await memberSession(cloud);
    imageId = await uploadImage(session, 'example/app:1', Buffer.from('data'));
  });

  afterEach(async function () {
    await devCloudAdmin(cloud, 'PATCH', '/faults', {
      errorRates: { '500': 0, '503': 0, '429': 0 },
      errorServices: ['compute', 'image', 'network'],
    });
  });

  after(async function () {
    await cloud?.stop();
  });

  it('answers 503 in each service style', async function () {
    await devCloudAdmin(cloud, 'PATCH', '/faults', { errorRates: { '503': 1 } });
    const compute = await call(session, 'compute', 'GET', '/servers');
    assert.equal(compute.status, 503);
    assert.equal(compute.body.serviceUnavailable.code, 503);
    const network = await call(session, 'network', 'GET', '/networks');
    assert.equal(network.status, 503);
    assert.equal(network.body.NeutronError.type, 'ServiceUnavailable');
    const image = await call(session, 'image', 'GET', '/v2/images');
    assert.equal(image.status, 503);
    assert.equal(image.body.code, '503 Service Unavailable');
  });

  it('answers 429 with Retry-After', async function () {
    await devCloudAdmin(cloud, 'PATCH', '/faults', {
      errorRates: { '429': 1 },
      retryAfterSeconds: 7,
    });
    const response = await call(session, 'compute', 'GET', '/servers');
    assert.equal(response.status, 429);
    assert.equal(response.headers.get('retry-after'), '7');
    assert.equal(response.body.overLimit.retryAfter, '7');
  });

  it('answers 500 as computeFault', async function () {
    await devCloudAdmin(cloud, 'PATCH', '/faults', { errorRates: { '500': 1 } });
    const response = await call(session, 'compute', 'GET', '/flavors');
    assert.equal(response.status, 500);
    assert.equal(response.body.computeFault.code, 500);
  });

  it('spares services not listed', async function () {
    await devCloudAdmin(cloud, 'PATCH', '/faults', {
      errorRates: { '503': 1 },
      errorServices: ['image'],
    });
    assert.equal((await call(session, 'compute', 'GET', '/servers')).status, 200);
    assert.equal((await call(session, 'image', 'GET', '/v2/images')).status, 503);
    // Identity is not in the list, so new tokens are still issued.
    await memberSession(cloud);
  });

  it('keeps settings after an invalid change', async function () {
    const before = await devCloudAdmin(cloud, 'GET', '/faults');
    await assert.rejects(
      devCloudAdmin(cloud, 'PATCH', '/faults', { errorRates: { '500': 2 } }),
      /400.*faults\.errorRates\.500: expected a fraction from 0 to 1, got 2/,
    );
    assert.deepEqual(await devCloudAdmin(cloud, 'GET', '/faults'), before);
  });

  it('stores per-service latency', async function () {
    const faults = await devCloudAdmin<{ latencyMs: Record<string, number> }>(
      cloud,
      'PATCH',
      '/faults',
      {
        latencyMs: { compute: 5 },
      },
    );
    assert.equal(faults.latencyMs.compute, 5);
    assert.equal(faults.latencyMs.image, 0);
    assert.equal((await call(session, 'compute', 'GET', '/servers')).status, 200);
    await devCloudAdmin(cloud, 'PATCH', '/faults', { latencyMs: { compute: 0 } });
  });

  it('fails servers of a failing flavor', async function () {
    const id = await createServer(session, {
      name: 'nohost',
      imageRef: imageId,
      flavorRef: '42',
      networks: 'auto',
    });
    const server = await waitForStatus(session, id, 'ERROR');
    assert.equal(server.fault.code, 500);
    assert.equal(server.fault.message, 'No valid host was found. ');
  });

  it('fails servers of a failing image', async function () {
    const broken = await uploadImage(session, 'broken/app:1', Buffer.from('data'));
    const id = await createServer(session, {
      name: 'broken',
      imageRef: broken,
      flavorRef: 'd1',
      networks: 'auto',
    });
    const server = await waitForStatus(session, id, 'ERROR');
    assert.match(server.fault.message, /image broken\/app:1 is set to fail/);
  });
});

describe('dev cloud seeded faults', function () {
  it('repeat with the same seed', async function () {
    const statuses = async (name: string): Promise<number[]> => {
      const cloud = await startDevCloud({
        name,
        extraArgs: ['--fault-seed', '42', '--error-rate-503', '0.5'],
      });
      const session = await memberSession(cloud);
      const result: number[] = [];
      for (let i = 0; i < 20; i++)
        result.push((await call(session, 'compute', 'GET', '/flavors')).status);
      await cloud.stop();
      return result;
    };
    const first = await statuses('devcloud-seed-1');
    const second = await statuses('devcloud-seed-2');
    assert.deepEqual(second, first);
    assert.ok(
      first.includes(200) && first.includes(503),
      `expected both 200 and 503, got ${first.join(',')}`,
    );
  });
});
