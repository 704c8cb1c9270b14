import assert from 'node:assert/strict';
import { access, readFile } from 'node:fs/promises';

import type Docker from 'dockerode';

import { formatIpv4 } from '../../../src/devcloud/config.js';
import { parseRouteTable } from '../../../src/devcloud/compute/host-routes.js';
import { startDevCloud, type DevCloud } from '../../support/devcloud.js';
import { registerCleanup } from '../../support/hooks.js';
import { waitFor } from '../../support/process.js';
import { buildTestImage, useDocker } from '../../support/docker.js';
import { call, type Session } from '../../support/openstack-http.js';
import { createServer, memberSession, uploadImage, waitForGone, waitForStatus } from './helpers.js';

describe('dev cloud restart', function () {
  this.timeout(180_000);

  describe('without engine', function () {
    it('keeps servers, images and tokens', async function () {
      const first = await startDevCloud({ name: 'devcloud-restart-ne' });
      const session = await memberSession(first);
      const imageId = await uploadImage(session, 'example/app:1', Buffer.from('data'));
      const serverId = await createServer(session, {
        name: 'kept',
        imageRef: imageId,
        flavorRef: 'd1',
        networks: 'auto',
      });
      await waitForStatus(session, serverId, 'ACTIVE');
      await call(session, 'compute', 'POST', `/servers/${serverId}/action`, {
        body: { 'os-stop': null },
      });
      await waitForStatus(session, serverId, 'SHUTOFF');
      await first.stop();

      const second = await startDevCloud({ name: 'devcloud-restart-ne-2', dataDir: first.dataDir });
      // The token from before the restart still works: tokens are signed with a key kept in the data folder.
      const restarted: Session = { ...session, endpoints: (await memberSession(second)).endpoints };
      const server = await call(restarted, 'compute', 'GET', `/servers/${serverId}`);
      assert.equal(server.status, 200);
      assert.equal(server.body.server.status, 'SHUTOFF');
      const image = await call(restarted, 'image', 'GET', `/v2/images/${imageId}`);
      assert.equal(image.body.status, 'active');
      await second.stop();
    });
  });

  describe('with the harness dockerd', function () {
    let docker: Docker;
    let socketPath: string;
    let cloud: DevCloud;
    let session: Session;
    let imageId: string;

    before(async function () {
      const engine = await useDocker();
      docker = engine.docker;
      socketPath = engine.socketPath;
      await buildTestImage(docker, `devcloud-test/restart-${process.pid}:v1`, {
        cmd: ['sleep', '3600'],
      });
    });

    it('matches servers with their containers', async function () {
      cloud = await startDevCloud({
        name: 'devcloud-restart',
        dockerSocket: socketPath,
        extraArgs: ['--stop-timeout', '1'],
      });
      session = await memberSession(cloud);
      // The engine already has the image, so the Glance data is never loaded.
      imageId = await uploadImage(
        session,
        `devcloud-test/restart-${process.pid}:v1`,
        Buffer.from('unused'),
      );
      const server = (name: string) =>
        createServer(session, { name, imageRef: imageId, flavorRef: 'd1', networks: 'auto' });
      const running = await server('running');
      const stopped = await server('stopped-while-down');
      const removed = await server('removed-while-down');
      for (const id of [running, stopped, removed]) await waitForStatus(session, id, 'ACTIVE');
      await cloud.stop();

      await docker.getContainer(`nova-${stopped}`).stop({ t: 0 });
      await docker.getContainer(`nova-${removed}`).remove({ force: true });
      cloud = await startDevCloud({
        name: 'devcloud-restart-2',
        dockerSocket: socketPath,
        dataDir: cloud.dataDir,
      });
      session = await memberSession(cloud);

      const show = async (id: string) =>
        (await call(session, 'compute', 'GET', `/servers/${id}`)).body.server;
      assert.equal((await show(running)).status, 'ACTIVE');
      assert.equal((await show(stopped)).status, 'SHUTOFF');
      const orphan = await show(removed);
      assert.equal(orphan.status, 'ERROR');
      assert.match(orphan.fault.message, /was not found on the container engine/);
      await cloud.stop();
    });

    it('resumes a build cut by a restart', async function () {
      cloud = await startDevCloud({
        name: 'devcloud-restart-build',
        dockerSocket: socketPath,
        extraArgs: ['--build-delay', '60000'],
      });
      session = await memberSession(cloud);
      imageId = await uploadImage(
        session,
        `devcloud-test/restart-${process.pid}:v1`,
        Buffer.from('unused'),
      );
      const id = await createServer(session, {
        name: 'interrupted',
        imageRef: imageId,
        flavorRef: 'd1',
        networks: 'auto',
      });
      assert.equal(
        (await call(session, 'compute', 'GET', `/servers/${id}`)).body.server.status,
        'BUILD',
      );
      await cloud.stop();

      cloud = await startDevCloud({
        name: 'devcloud-restart-build-2',
        dockerSocket: socketPath,
        dataDir: cloud.dataDir,
      });
      session = await memberSession(cloud);
      await waitForStatus(session, id, 'ACTIVE');
      assert.equal((await docker.getContainer(`nova-${id}`).inspect()).State.Running, true);
      await cloud.stop();
    });
  });
});

/**
 * Removes a dev cloud's Docker network and checks that its bridge left the
 * machine. Retries while Docker still counts an endpoint of a just-removed
 * container, and is safe to call twice.
 */
async function removeDockerNetwork(docker: Docker, name: string): Promise<void> {
  let id: string;
  try {
    id = (await docker.getNetwork(name).inspect()).Id;
  } catch {
    return;
  }
  await waitFor(
    `Docker network ${name} to be removed`,
    async () => {
      await docker.getNetwork(name).remove();
      return true;
    },
    15_000,
    500,
  );
  const bridge = `/sys/class/net/br-${id.slice(0, 12)}`;
  await waitFor(
    `bridge ${bridge} to disappear`,
    async () => {
      await access(bridge).then(
        () => {
          throw new Error(`${bridge} still exists`);
        },
        () => undefined,
      );
      return true;
    },
    15_000,
    200,
  );
}

describe('dev cloud Docker network', function () {
  this.timeout(120_000);

  it('refuses a CIDR over a host route', async function () {
    const engine = await useDocker();
    const [route] = parseRouteTable(await readFile('/proc/net/route', 'utf8'));
    if (!route) this.skip();
    // parseCidr accepts /8 to /29; any of those prefixes still overlaps the route.
    const cidr = `${formatIpv4(route.network)}/${Math.min(Math.max(route.prefix, 8), 29)}`;
    const networksBefore = (await engine.docker.listNetworks())
      .map((network) => network.Name)
      .sort();

    await assert.rejects(
      startDevCloud({
        name: 'devcloud-overlap',
        dockerSocket: engine.socketPath,
        dockerNetwork: true,
        extraArgs: ['--network-cidr', cidr],
      }),
      /exited before it was ready[\s\S]*overlaps host routes/,
    );
    const networksAfter = (await engine.docker.listNetworks())
      .map((network) => network.Name)
      .sort();
    assert.deepEqual(networksAfter, networksBefore);
  });

  it('gives servers the container address', async function () {
    const engine = await useDocker();
    const reference = `devcloud-test/network-${process.pid}:v1`;
    await buildTestImage(engine.docker, reference, { cmd: ['sleep', '3600'] });
    const cloud = await startDevCloud({
      name: 'devcloud-network',
      dockerSocket: engine.socketPath,
      dockerNetwork: true,
    });
    const networkName = `${cloud.dockerPrefix}-private`;
    // Also registered with the root hook, so the bridge goes even when this test is cut short.
    registerCleanup(`Docker network ${networkName}`, () =>
      removeDockerNetwork(engine.docker, networkName),
    );
    try {
      const session = await memberSession(cloud);
      const imageId = await uploadImage(session, reference, Buffer.from('unused'));
      const id = await createServer(session, {
        name: 'addressed',
        imageRef: imageId,
        flavorRef: 'd1',
        networks: 'auto',
      });
      const server = await waitForStatus(session, id, 'ACTIVE');

      const container = await engine.docker.getContainer(`nova-${id}`).inspect();
      const dockerAddress = container.NetworkSettings.Networks[networkName]?.IPAddress;
      assert.ok(dockerAddress, `container not attached to ${networkName}`);
      assert.equal(server.addresses.private[0].addr, dockerAddress);
      const ports = await call(session, 'network', 'GET', `/ports?device_id=${id}`);
      assert.equal(ports.body.ports[0].fixed_ips[0].ip_address, dockerAddress);
      const network = await engine.docker.getNetwork(networkName).inspect();
      assert.equal(network.Internal, true);

      await call(session, 'compute', 'DELETE', `/servers/${id}`);
      await waitForGone(session, id);
    } finally {
      await cloud.stop();
      // Removing the network also removes its bridge from the machine.
      await removeDockerNetwork(engine.docker, networkName);
    }
  });
});
