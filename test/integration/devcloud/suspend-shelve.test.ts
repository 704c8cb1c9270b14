/**
 * The dev cloud's suspend, resume, shelve, shelveOffload and unshelve
 * actions: Nova's state checks and error bodies without an engine, what
 * happens to the container on the harness dockerd, and how a restart
 * finishes an interrupted unshelve.
 */
import assert from 'node:assert/strict';

import type Docker from 'dockerode';

import { devCloudAdmin, startDevCloud, type DevCloud } from '../../support/devcloud.js';
import { buildTestImage, useDocker } from '../../support/docker.js';
import { call, type RawResponse, type Session } from '../../support/openstack-http.js';
import { createServer, memberSession, uploadImage, waitForStatus } from './helpers.js';

/** Sends one server action at a microversion. */
function action(
  session: Session,
  id: string,
  body: unknown,
  microversion?: string,
): Promise<RawResponse> {
  return call(session, 'compute', 'POST', `/servers/${id}/action`, {
    body,
    ...(microversion === undefined ? {} : { microversion }),
  });
}

/* eslint-disable @typescript-eslint/no-explicit-any -- server bodies are checked field by field */

async function show(session: Session, id: string): Promise<any> {
  return (await call(session, 'compute', 'GET', `/servers/${id}`, { microversion: '2.93' })).body
    .server;
}

describe('dev cloud suspend and shelve without engine', function () {
  let cloud: DevCloud;
  let session: Session;
  let imageId: string;

  before(async function () {
    cloud = await startDevCloud({
      name: 'devcloud-shelve',
      extraArgs: ['--quota-instances', '-1', '--quota-cores', '-1', '--quota-ram', '-1'],
    });
    session = await memberSession(cloud);
    imageId = await uploadImage(session, 'example/app:1', Buffer.from('not a real archive'));
  });

  after(async function () {
    await cloud?.stop();
  });

  async function activeServer(name: string): Promise<string> {
    const id = await createServer(session, {
      name,
      imageRef: imageId,
      flavorRef: 'd1',
      networks: 'auto',
      tags: ['app'],
    });
    await waitForStatus(session, id, 'ACTIVE');
    return id;
  }

  it('suspends and resumes server', async function () {
    const id = await activeServer('suspended');

    assert.equal((await action(session, id, { suspend: null })).status, 202);
    const suspended = await waitForStatus(session, id, 'SUSPENDED');
    assert.equal(suspended['OS-EXT-STS:vm_state'], 'suspended');
    assert.equal(suspended['OS-EXT-STS:power_state'], 7);
    assert.equal(suspended['OS-EXT-STS:task_state'], null);

    assert.equal((await action(session, id, { resume: null })).status, 202);
    const resumed = await waitForStatus(session, id, 'ACTIVE');
    assert.equal(resumed['OS-EXT-STS:vm_state'], 'active');
    assert.equal(resumed['OS-EXT-STS:power_state'], 1);
  });

  it('rejects resume of active server', async function () {
    const id = await activeServer('not-suspended');

    const response = await action(session, id, { resume: null });

    assert.equal(response.status, 409);
    assert.equal(response.body.conflictingRequest.code, 409);
    assert.equal(
      response.body.conflictingRequest.message,
      `Cannot 'resume' instance ${id} while it is in vm_state active`,
    );
    assert.equal((await show(session, id)).status, 'ACTIVE');
  });

  it('rejects suspend of stopped server', async function () {
    const id = await activeServer('stopped');
    await action(session, id, { 'os-stop': null });
    await waitForStatus(session, id, 'SHUTOFF');

    const response = await action(session, id, { suspend: null });

    assert.equal(response.status, 409);
    assert.match(
      response.body.conflictingRequest.message,
      /^Cannot 'suspend' instance \S+ while it is in vm_state stopped$/,
    );
    assert.equal((await show(session, id)).status, 'SHUTOFF');
  });

  it('shelves and unshelves server', async function () {
    const id = await activeServer('shelved');

    assert.equal((await action(session, id, { shelve: null })).status, 202);
    const shelved = await waitForStatus(session, id, 'SHELVED_OFFLOADED');
    assert.equal(shelved['OS-EXT-STS:vm_state'], 'shelved_offloaded');
    assert.equal(shelved['OS-EXT-STS:power_state'], 4);
    assert.equal(shelved['OS-EXT-STS:task_state'], null);

    assert.equal((await action(session, id, { unshelve: null })).status, 202);
    const unshelved = await waitForStatus(session, id, 'ACTIVE');
    assert.equal(unshelved['OS-EXT-STS:power_state'], 1);
    assert.equal(unshelved['OS-EXT-STS:task_state'], null);
  });

  it('shelves suspended server', async function () {
    const id = await activeServer('suspended-then-shelved');
    await action(session, id, { suspend: null });
    await waitForStatus(session, id, 'SUSPENDED');

    assert.equal((await action(session, id, { shelve: null })).status, 202);

    await waitForStatus(session, id, 'SHELVED_OFFLOADED');
  });

  it('rejects unshelve of active server', async function () {
    const id = await activeServer('not-shelved');

    const response = await action(session, id, { unshelve: null });

    assert.equal(response.status, 409);
    assert.equal(
      response.body.conflictingRequest.message,
      `Cannot 'unshelve' instance ${id} while it is in vm_state active`,
    );
  });

  it('rejects shelveOffload of active server', async function () {
    const id = await activeServer('not-offloadable');

    const response = await action(session, id, { shelveOffload: null });

    assert.equal(response.status, 409);
    assert.equal(
      response.body.conflictingRequest.message,
      `Cannot 'shelveOffload' instance ${id} while it is in vm_state active`,
    );
  });

  it('rejects empty unshelve object at 2.77', async function () {
    const id = await activeServer('unshelve-schema');
    await action(session, id, { shelve: null });
    await waitForStatus(session, id, 'SHELVED_OFFLOADED');

    const response = await action(session, id, { unshelve: {} }, '2.77');

    assert.equal(response.status, 400);
    assert.equal(
      response.body.badRequest.message,
      "Invalid input for field/attribute unshelve. Value: {}. 'availability_zone' is a required property",
    );
    assert.equal((await show(session, id)).status, 'SHELVED_OFFLOADED');
  });

  it('rejects unknown zone on unshelve', async function () {
    const id = await activeServer('unshelve-zone');
    await action(session, id, { shelve: null });
    await waitForStatus(session, id, 'SHELVED_OFFLOADED');

    const response = await action(
      session,
      id,
      { unshelve: { availability_zone: 'elsewhere' } },
      '2.77',
    );

    assert.equal(response.status, 400);
    assert.equal(
      response.body.badRequest.message,
      'The requested availability zone is not available',
    );
    const server = await show(session, id);
    assert.equal(server.status, 'SHELVED_OFFLOADED');
    assert.equal(server['OS-EXT-STS:task_state'], null);
  });

  it('unshelves into its own zone at 2.91', async function () {
    const id = await activeServer('unshelve-own-zone');
    await action(session, id, { shelve: null });
    await waitForStatus(session, id, 'SHELVED_OFFLOADED');

    const response = await action(session, id, { unshelve: { availability_zone: 'nova' } }, '2.91');

    assert.equal(response.status, 202);
    await waitForStatus(session, id, 'ACTIVE');
  });

  it('edits tags of suspended server only', async function () {
    const id = await activeServer('tags');
    const putTags = () =>
      call(session, 'compute', 'PUT', `/servers/${id}/tags`, {
        body: { tags: ['app', 'edited'] },
        microversion: '2.26',
      });
    await action(session, id, { suspend: null });
    await waitForStatus(session, id, 'SUSPENDED');

    assert.equal((await putTags()).status, 200);

    await action(session, id, { shelve: null });
    await waitForStatus(session, id, 'SHELVED_OFFLOADED');
    assert.equal((await putTags()).status, 409);
  });

  it('lists shelved servers by status', async function () {
    const id = await activeServer('listed-shelved');
    await action(session, id, { shelve: null });
    await waitForStatus(session, id, 'SHELVED_OFFLOADED');

    const response = await call(session, 'compute', 'GET', '/servers?status=SHELVED_OFFLOADED');

    const ids = (response.body.servers as Array<{ id: string }>).map((server) => server.id);
    assert.ok(ids.includes(id), `expected ${id} in ${ids.join(', ')}`);
  });
});

describe('dev cloud suspend and shelve with the harness dockerd', function () {
  this.timeout(180_000);
  let docker: Docker;
  let socketPath: string;
  let cloud: DevCloud;
  let session: Session;
  let imageId: string;
  const reference = `devcloud-test/shelve-${process.pid}:v1`;

  before(async function () {
    const engine = await useDocker();
    docker = engine.docker;
    socketPath = engine.socketPath;
    await buildTestImage(docker, reference, { cmd: ['sleep', '3600'] });
  });

  afterEach(async function () {
    await cloud?.stop();
  });

  async function start(name: string, extraArgs: string[] = [], dataDir?: string): Promise<void> {
    cloud = await startDevCloud({
      name,
      dockerSocket: socketPath,
      extraArgs: ['--stop-timeout', '1', ...extraArgs],
      ...(dataDir === undefined ? {} : { dataDir }),
    });
    session = await memberSession(cloud);
    // A restart keeps the image. The engine already has it, so the Glance data is never loaded.
    if (dataDir === undefined)
      imageId = await uploadImage(session, reference, Buffer.from('unused'));
  }

  async function activeServer(name: string): Promise<string> {
    const id = await createServer(session, {
      name,
      imageRef: imageId,
      flavorRef: 'd1',
      networks: 'none',
    });
    await waitForStatus(session, id, 'ACTIVE');
    return id;
  }

  const container = (id: string) => docker.getContainer(`nova-${id}`).inspect();

  /** Watches the server for a while and returns every status it showed, after the compute queue settled. */
  async function statusesOver(id: string, ms: number): Promise<string[]> {
    const seen = new Set<string>();
    const until = Date.now() + ms;
    while (Date.now() < until) {
      seen.add((await show(session, id)).status);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    await devCloudAdmin(cloud, 'POST', '/settle');
    seen.add((await show(session, id)).status);
    return [...seen];
  }

  it('suspends by pausing the container', async function () {
    await start('devcloud-suspend-docker');
    const id = await activeServer('suspended');

    await action(session, id, { suspend: null });
    await waitForStatus(session, id, 'SUSPENDED');
    assert.equal((await container(id)).State.Paused, true);
    // The engine's pause event must not turn the server into PAUSED.
    assert.deepEqual(await statusesOver(id, 1000), ['SUSPENDED']);

    await action(session, id, { resume: null });
    await waitForStatus(session, id, 'ACTIVE');
    const resumed = await container(id);
    assert.equal(resumed.State.Paused, false);
    assert.equal(resumed.State.Running, true);
  });

  it('shelves by stopping the container', async function () {
    await start('devcloud-shelve-docker');
    const id = await activeServer('shelved');
    const before = await container(id);

    await action(session, id, { shelve: null });
    // The container ignores SIGTERM, so the stop takes the 1 s stop timeout.
    const shelving = await show(session, id);
    assert.equal(shelving['OS-EXT-STS:task_state'], 'shelving');
    await waitForStatus(session, id, 'SHELVED_OFFLOADED');
    assert.equal((await container(id)).State.Running, false);
    // The engine's die event must not turn the server into SHUTOFF.
    assert.deepEqual(await statusesOver(id, 1000), ['SHELVED_OFFLOADED']);

    await action(session, id, { unshelve: null });
    await waitForStatus(session, id, 'ACTIVE');
    const after = await container(id);
    assert.equal(after.State.Running, true);
    assert.equal(after.Id, before.Id);
  });

  it('shelves suspended server', async function () {
    await start('devcloud-shelve-suspended');
    const id = await activeServer('suspended-then-shelved');
    await action(session, id, { suspend: null });
    await waitForStatus(session, id, 'SUSPENDED');

    await action(session, id, { shelve: null });

    await waitForStatus(session, id, 'SHELVED_OFFLOADED');
    const stopped = await container(id);
    assert.equal(stopped.State.Running, false);
    assert.equal(stopped.State.Paused, false);
  });

  it('keeps suspended and shelved servers across restart', async function () {
    await start('devcloud-shelve-restart');
    const suspended = await activeServer('suspended');
    const shelved = await activeServer('shelved');
    await action(session, suspended, { suspend: null });
    await action(session, shelved, { shelve: null });
    await waitForStatus(session, suspended, 'SUSPENDED');
    await waitForStatus(session, shelved, 'SHELVED_OFFLOADED');
    await cloud.stop();

    await start('devcloud-shelve-restart-2', [], cloud.dataDir);

    assert.equal((await show(session, suspended)).status, 'SUSPENDED');
    assert.equal((await show(session, shelved)).status, 'SHELVED_OFFLOADED');
  });

  it('finishes unshelve cut by restart', async function () {
    await start('devcloud-unshelve-restart');
    const id = await activeServer('interrupted');
    await action(session, id, { shelve: null });
    await waitForStatus(session, id, 'SHELVED_OFFLOADED');
    await cloud.stop();
    // Without its container, the unshelve spawns a new one and waits the build delay first.
    await docker.getContainer(`nova-${id}`).remove({ force: true });
    await start('devcloud-unshelve-restart-2', ['--build-delay', '60000'], cloud.dataDir);

    assert.equal((await action(session, id, { unshelve: null })).status, 202);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const spawning = await show(session, id);
    assert.equal(spawning.status, 'SHELVED_OFFLOADED');
    assert.equal(spawning['OS-EXT-STS:task_state'], 'spawning');
    await cloud.stop();

    await start('devcloud-unshelve-restart-3', [], cloud.dataDir);
    await waitForStatus(session, id, 'ACTIVE');
    assert.equal((await container(id)).State.Running, true);
  });
});
