import assert from 'node:assert/strict';

import { devCloudAdmin, startDevCloud, type DevCloud } from '../../support/devcloud.js';
import { call, type Session } from '../../support/openstack-http.js';
import type { RequestCount } from '../../../src/devcloud/stats.js';
import { createServer, memberSession, uploadImage, waitForGone, waitForStatus } from './helpers.js';

describe('dev cloud quotas', function () {
  let cloud: DevCloud;
  let session: Session;
  let imageId: string;
  const server = (flavorRef: string, name = 'q') => ({
    name,
    imageRef: imageId,
    flavorRef,
    networks: 'auto',
  });

  before(async function () {
    cloud = await startDevCloud({
      name: 'devcloud-quotas',
      extraArgs: ['--quota-instances', '2', '--quota-ram', '1024'],
    });
    session = await memberSession(cloud);
    imageId = await uploadImage(session, 'example/app:1', Buffer.from('data'));
  });

  after(async function () {
    await cloud?.stop();
  });

  it('refuses a flavor over the ram quota', async function () {
    const response = await call(session, 'compute', 'POST', '/servers', {
      body: { server: server('2') },
      microversion: '2.52',
    });
    assert.equal(response.status, 403);
    assert.deepEqual(response.body, {
      forbidden: {
        code: 403,
        message: 'Quota exceeded for ram: Requested 2048, but already used 0 of 1024 ram',
      },
    });
  });

  it('refuses the server over the instance quota', async function () {
    await createServer(session, server('42', 'one'));
    await createServer(session, server('42', 'two'));
    const portsBefore = await call(session, 'network', 'GET', '/ports');

    const response = await call(session, 'compute', 'POST', '/servers', {
      body: { server: server('42', 'three') },
      microversion: '2.52',
    });
    assert.equal(response.status, 403);
    assert.equal(
      response.body.forbidden.message,
      'Quota exceeded for instances: Requested 1, but already used 2 of 2 instances',
    );

    const list = await call(session, 'compute', 'GET', '/servers');
    assert.equal(list.body.servers.length, 2);
    const portsAfter = await call(session, 'network', 'GET', '/ports');
    assert.equal(portsAfter.body.ports.length, portsBefore.body.ports.length);
  });

  it('frees quota when a server is deleted', async function () {
    const list = await call(session, 'compute', 'GET', '/servers');
    const victim = list.body.servers[0].id as string;
    await waitForStatus(session, victim, 'ACTIVE');
    await call(session, 'compute', 'DELETE', `/servers/${victim}`);
    await waitForGone(session, victim);
    await createServer(session, server('42', 'replacement'));
  });

  it('applies limits set through the admin endpoint', async function () {
    await devCloudAdmin(cloud, 'PATCH', `/quotas/${session.projectId}`, { instances: 5 });
    await createServer(session, server('42', 'third'));

    const limits = await call(session, 'compute', 'GET', '/limits');
    assert.equal(limits.body.limits.absolute.maxTotalInstances, 5);
    assert.equal(limits.body.limits.absolute.totalInstancesUsed, 3);
    const quotaSet = await call(
      session,
      'compute',
      'GET',
      `/os-quota-sets/${session.projectId}/detail`,
    );
    assert.deepEqual(quotaSet.body.quota_set.ram, { limit: 1024, in_use: 384, reserved: 0 });
  });

  it('rejects an unknown quota name', async function () {
    await assert.rejects(
      devCloudAdmin(cloud, 'PATCH', `/quotas/${session.projectId}`, { floating_ips: 3 }),
      /unknown quota .*floating_ips.*: expected instances, cores or ram/,
    );
  });
});

describe('dev cloud admin endpoint', function () {
  let cloud: DevCloud;
  let session: Session;

  before(async function () {
    cloud = await startDevCloud({ name: 'devcloud-admin' });
    session = await memberSession(cloud);
  });

  after(async function () {
    await cloud?.stop();
  });

  it('counts requests by service and route', async function () {
    await devCloudAdmin(cloud, 'DELETE', '/stats');
    for (let i = 0; i < 3; i++) await call(session, 'compute', 'GET', '/servers');
    await call(session, 'compute', 'GET', '/servers/00000000-0000-4000-8000-000000000000');
    await memberSession(cloud);

    const stats = await devCloudAdmin<{ total: number; requests: RequestCount[] }>(
      cloud,
      'GET',
      '/stats',
    );
    const row = (service: string, method: string, route: string) =>
      stats.requests.find(
        (entry) => entry.service === service && entry.method === method && entry.route === route,
      );
    assert.deepEqual(row('compute', 'GET', '/v2.1/servers'), {
      service: 'compute',
      method: 'GET',
      route: '/v2.1/servers',
      count: 3,
      statuses: { '200': 3 },
    });
    assert.deepEqual(row('compute', 'GET', '/v2.1/servers/{server_id}')?.statuses, { '404': 1 });
    assert.equal(row('identity', 'POST', '/v3/auth/tokens')?.count, 1);
    assert.equal(stats.total, 5);
  });

  it('reports health and the driver', async function () {
    const health = await devCloudAdmin<{ status: string; driver: string }>(
      cloud,
      'GET',
      '/healthz',
    );
    assert.deepEqual(health, { status: 'ok', driver: 'no-engine' });
  });
});
