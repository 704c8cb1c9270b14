import assert from 'node:assert/strict';
import { request } from 'node:http';
import { pipeline } from 'node:stream/promises';

import type Docker from 'dockerode';

import { devCloudAdmin, startDevCloud, type DevCloud } from '../../support/devcloud.js';
import { buildTestImage, useDocker } from '../../support/docker.js';
import { call, type Session } from '../../support/openstack-http.js';
import { createServer, memberSession, uploadImage, waitForGone, waitForStatus } from './helpers.js';

/** Streams `docker save` of a reference into a Glance image, as the image publisher does. */
async function publish(
  session: Session,
  docker: Docker,
  reference: string,
  properties: Record<string, string>,
): Promise<string> {
  const created = await call(session, 'image', 'POST', '/v2/images', {
    body: { name: reference, container_format: 'docker', disk_format: 'raw', ...properties },
  });
  assert.equal(created.status, 201, created.text);
  const archive = await docker.getImage(reference).get();
  const upload = request(`${session.endpoints.image}/v2/images/${created.body.id}/file`, {
    method: 'PUT',
    headers: { 'X-Auth-Token': session.token, 'Content-Type': 'application/octet-stream' },
  });
  const response = new Promise<number>((resolve, reject) => {
    upload.once('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    upload.once('error', reject);
  });
  await pipeline(archive, upload);
  assert.equal(await response, 204);
  return created.body.id as string;
}

async function inspect(docker: Docker, serverId: string): Promise<Docker.ContainerInspectInfo> {
  return docker.getContainer(`nova-${serverId}`).inspect();
}

describe('dev cloud with the harness dockerd', function () {
  this.timeout(180_000);
  let docker: Docker;
  let cloud: DevCloud;
  let session: Session;
  let imageId: string;
  let serverId: string;
  const reference = `devcloud-test/app-${process.pid}:v1`;

  before(async function () {
    const engine = await useDocker();
    docker = engine.docker;
    cloud = await startDevCloud({
      name: 'devcloud-docker',
      dockerSocket: engine.socketPath,
      extraArgs: ['--stop-timeout', '1'],
    });
    session = await memberSession(cloud);

    await buildTestImage(docker, reference, { cmd: ['sleep', '3600'] });
    imageId = await publish(session, docker, reference, {
      os_command_line: `sh -c 'echo booted as $GREETING; exec sleep 3600'`,
    });
    // Removed from the engine, so the dev cloud must load the Glance data itself.
    await docker.getImage(reference).remove();
  });

  after(async function () {
    await cloud?.stop();
  });

  it('boots server from a Glance image', async function () {
    serverId = await createServer(session, {
      name: 'app',
      imageRef: imageId,
      flavorRef: 'd1',
      networks: 'auto',
      metadata: { GREETING: 'hello' },
    });
    const server = await waitForStatus(session, serverId, 'ACTIVE');
    assert.equal(server['OS-EXT-STS:vm_state'], 'active');
    const container = await inspect(docker, serverId);
    assert.equal(container.State.Running, true);
    assert.equal(container.Config.Image, reference);
  });

  it('applies environment, command and limits', async function () {
    const container = await inspect(docker, serverId);
    assert.ok(
      container.Config.Env.includes('GREETING=hello'),
      `Env was ${container.Config.Env.join(' ')}`,
    );
    assert.deepEqual(container.Config.Cmd, [
      'sh',
      '-c',
      'echo booted as $GREETING; exec sleep 3600',
    ]);
    assert.equal(container.HostConfig.Memory, 512 * 1024 * 1024);
    assert.equal(container.HostConfig.CpuShares, 1024);
  });

  it('returns the container log as console output', async function () {
    const response = await call(session, 'compute', 'POST', `/servers/${serverId}/action`, {
      body: { 'os-getConsoleOutput': {} },
    });
    assert.equal(response.status, 200);
    assert.match(response.body.output, /booted as hello/);
  });

  it('stops and starts the container', async function () {
    assert.equal(
      (
        await call(session, 'compute', 'POST', `/servers/${serverId}/action`, {
          body: { 'os-stop': null },
        })
      ).status,
      202,
    );
    await waitForStatus(session, serverId, 'SHUTOFF');
    assert.equal((await inspect(docker, serverId)).State.Running, false);

    assert.equal(
      (
        await call(session, 'compute', 'POST', `/servers/${serverId}/action`, {
          body: { 'os-start': null },
        })
      ).status,
      202,
    );
    await waitForStatus(session, serverId, 'ACTIVE');
    assert.equal((await inspect(docker, serverId)).State.Running, true);
  });

  it('pauses and unpauses the container', async function () {
    await call(session, 'compute', 'POST', `/servers/${serverId}/action`, {
      body: { pause: null },
    });
    await waitForStatus(session, serverId, 'PAUSED');
    assert.equal((await inspect(docker, serverId)).State.Paused, true);

    await call(session, 'compute', 'POST', `/servers/${serverId}/action`, {
      body: { unpause: null },
    });
    await waitForStatus(session, serverId, 'ACTIVE');
    assert.equal((await inspect(docker, serverId)).State.Paused, false);
  });

  it('rebuilds with new metadata', async function () {
    const before = await inspect(docker, serverId);
    const response = await call(session, 'compute', 'POST', `/servers/${serverId}/action`, {
      body: { rebuild: { imageRef: imageId, metadata: { GREETING: 'rebuilt' } } },
      microversion: '2.52',
    });
    assert.equal(response.status, 202);
    assert.equal(response.body.server.status, 'REBUILD');
    await waitForStatus(session, serverId, 'ACTIVE');
    const after = await inspect(docker, serverId);
    assert.notEqual(after.Id, before.Id);
    assert.ok(
      after.Config.Env.includes('GREETING=rebuilt'),
      `Env was ${after.Config.Env.join(' ')}`,
    );
  });

  it('stays ACTIVE after its own engine events', async function () {
    await call(session, 'compute', 'POST', `/servers/${serverId}/action`, {
      body: { reboot: { type: 'HARD' } },
    });
    await waitForStatus(session, serverId, 'ACTIVE');
    await call(session, 'compute', 'POST', `/servers/${serverId}/action`, {
      body: { rebuild: { imageRef: imageId } },
    });
    await waitForStatus(session, serverId, 'ACTIVE');

    // The die, destroy and start events of the reboot and rebuild arrive after the
    // actions finished; none of them may flip the server away from ACTIVE.
    const seen = new Set<string>();
    const until = Date.now() + 1500;
    while (Date.now() < until) {
      seen.add((await call(session, 'compute', 'GET', `/servers/${serverId}`)).body.server.status);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    await devCloudAdmin(cloud, 'POST', '/settle');
    const servers = await devCloudAdmin<{ servers: Array<{ id: string; vmState: string }> }>(
      cloud,
      'GET',
      '/servers',
    );
    assert.deepEqual([...seen], ['ACTIVE']);
    assert.equal(servers.servers.find((server) => server.id === serverId)?.vmState, 'active');
  });

  it('marks an exited container SHUTOFF', async function () {
    await docker.getContainer(`nova-${serverId}`).kill();
    const server = await waitForStatus(session, serverId, 'SHUTOFF');
    assert.equal(server['OS-EXT-STS:power_state'], 4);
  });

  it('deletes the server and its container', async function () {
    assert.equal((await call(session, 'compute', 'DELETE', `/servers/${serverId}`)).status, 204);
    await waitForGone(session, serverId);
    await assert.rejects(
      inspect(docker, serverId),
      (err: { statusCode?: number }) => err.statusCode === 404,
    );
  });

  it('sets ERROR with a fault for corrupt image data', async function () {
    const corrupt = await uploadImage(
      session,
      `devcloud-test/corrupt-${process.pid}:v1`,
      Buffer.from('this is not a docker save archive'),
    );
    const id = await createServer(session, {
      name: 'corrupt',
      imageRef: corrupt,
      flavorRef: 'd1',
      networks: 'none',
    });
    const server = await waitForStatus(session, id, 'ERROR');
    assert.equal(server.fault.code, 500);
    assert.match(server.fault.message, /Cannot load repository file of Glance image/);
    assert.match(server.fault.created, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    await assert.rejects(
      inspect(docker, id),
      (err: { statusCode?: number }) => err.statusCode === 404,
    );
  });

  it('sets ERROR when the image name differs', async function () {
    const other = `devcloud-test/other-${process.pid}:v1`;
    await buildTestImage(docker, other);
    const misnamed = await publish(session, docker, other, {});
    await docker.getImage(other).remove();
    const patched = await call(session, 'image', 'PATCH', `/v2/images/${misnamed}`, {
      body: [{ op: 'replace', path: '/name', value: `devcloud-test/renamed-${process.pid}:v1` }],
      contentType: 'application/openstack-images-v2.1-json-patch',
    });
    assert.equal(patched.status, 200);

    const id = await createServer(session, {
      name: 'misnamed',
      imageRef: misnamed,
      flavorRef: 'd1',
      networks: 'none',
    });
    const server = await waitForStatus(session, id, 'ERROR');
    assert.match(
      server.fault.message,
      /the Glance image name must equal the image name in the docker save archive/,
    );
  });
});
