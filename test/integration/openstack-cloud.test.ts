/**
 * Smoke test of the real OpenStack test cloud through plain HTTP: what the
 * operator relies on works for its non-admin user, from a token to a
 * Nova-Docker style image booting and failing the ways real clouds fail.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { useOpenStack, testCloudCredentials, type TestCloud } from '../support/openstack.js';
import { call, passwordSession, type Session } from '../support/openstack-http.js';
import { waitFor } from '../support/process.js';
import { makeStateDir, removeStateDir } from '../support/state.js';

const execFileAsync = promisify(execFile);
const MICROVERSION = '2.93';

/* eslint-disable @typescript-eslint/no-explicit-any -- response bodies are checked field by field */

/**
 * Writes a tar laid out like `docker save` output (manifest.json, image
 * config, one layer) for the given reference; Nova's fake driver never reads
 * it, but Glance stores and sizes it like a real one.
 */
async function dockerSaveLikeTar(reference: string): Promise<Buffer> {
  const dir = await makeStateDir('osimg');
  try {
    const layerDir = join(dir, 'image', 'layer0');
    await mkdir(join(dir, 'rootfs'), { recursive: true });
    await mkdir(layerDir, { recursive: true });
    await writeFile(join(dir, 'rootfs', 'hello.txt'), 'hello from the test cloud\n');
    await execFileAsync('tar', [
      '-cf',
      join(layerDir, 'layer.tar'),
      '-C',
      join(dir, 'rootfs'),
      '.',
    ]);
    const config = { architecture: 'amd64', os: 'linux', config: { Cmd: ['/hello'] } };
    await writeFile(join(dir, 'image', 'config.json'), JSON.stringify(config));
    const manifest = [
      { Config: 'config.json', RepoTags: [reference], Layers: ['layer0/layer.tar'] },
    ];
    await writeFile(join(dir, 'image', 'manifest.json'), JSON.stringify(manifest));
    const archive = join(dir, 'image.tar');
    await execFileAsync('tar', ['-cf', archive, '-C', join(dir, 'image'), '.']);
    return await readFile(archive);
  } finally {
    await removeStateDir(dir);
  }
}

async function serverStatus(session: Session, id: string, wanted: string): Promise<any> {
  let server: any;
  await waitFor(
    `server ${id} to reach ${wanted}`,
    async () => {
      const response = await call(session, 'compute', 'GET', `/servers/${id}`, {
        microversion: MICROVERSION,
      });
      server = response.body?.server;
      if (server?.status === 'ERROR' && wanted !== 'ERROR')
        throw new Error(`server ${id} went to ERROR: ${JSON.stringify(server.fault)}`);
      return server?.status === wanted;
    },
    60_000,
    250,
  );
  return server;
}

describe('real OpenStack test cloud @openstack', function () {
  this.timeout(120_000);
  const unique = `${process.pid}-${Date.now().toString(36)}`;
  const reference = `nova-docker-test/smoke-${unique}:v1`;
  let cloud: TestCloud;
  let operator: Session;
  const serverIds: string[] = [];
  let imageId: string | undefined;
  let networkId: string;

  before(async function () {
    cloud = await useOpenStack(this);
    operator = await passwordSession(await testCloudCredentials(cloud, cloud.cloudName));
  });

  after(async function () {
    if (!operator) return;
    for (const id of serverIds)
      await call(operator, 'compute', 'DELETE', `/servers/${id}`, { microversion: MICROVERSION });
    if (imageId) await call(operator, 'image', 'DELETE', `/v2/images/${imageId}`);
  });

  it('issues a member token to the operator', async function () {
    const credentials = await testCloudCredentials(cloud, cloud.cloudName);
    const response = await fetch(`${cloud.authUrl}/auth/tokens`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        auth: {
          identity: {
            methods: ['password'],
            password: {
              user: {
                name: credentials.username,
                domain: { name: 'Default' },
                password: credentials.password,
              },
            },
          },
          scope: { project: { id: cloud.projectId } },
        },
      }),
    });
    const body = (await response.json()) as any;
    const roles = (body.token.roles as Array<{ name: string }>).map((role) => role.name);

    assert.equal(response.status, 201);
    assert.match(response.headers.get('x-subject-token') ?? '', /^\S{100,}$/);
    assert.equal(body.token.project.id, cloud.projectId);
    assert.ok(roles.includes('member'), `roles: ${roles.join(', ')}`);
    assert.ok(!roles.includes('admin'), `roles: ${roles.join(', ')}`);
  });

  it('refuses an admin API to the operator', async function () {
    const response = await call(operator, 'compute', 'GET', '/os-hypervisors', {
      microversion: MICROVERSION,
    });

    assert.equal(response.status, 403, response.text);
  });

  it('advertises compute microversion 2.93', async function () {
    const response = await call(operator, 'compute', 'GET', '/');

    assert.equal(response.status, 200, response.text);
    assert.equal(response.body.version.version, '2.93');
  });

  it('lists the test flavors to the operator', async function () {
    const response = await call(operator, 'compute', 'GET', '/flavors', {
      microversion: MICROVERSION,
    });
    const names = (response.body.flavors as Array<{ name: string }>).map((flavor) => flavor.name);

    assert.equal(response.status, 200, response.text);
    assert.ok(names.includes(cloud.flavors.tiny), `flavors: ${names.join(', ')}`);
    assert.ok(names.includes(cloud.flavors.small), `flavors: ${names.join(', ')}`);
  });

  it('stores a docker image in Glance', async function () {
    const archive = await dockerSaveLikeTar(reference);
    const created = await call(operator, 'image', 'POST', '/v2/images', {
      body: { name: reference, container_format: 'docker', disk_format: 'raw' },
    });
    assert.equal(created.status, 201, created.text);
    imageId = created.body.id as string;

    const uploaded = await call(operator, 'image', 'PUT', `/v2/images/${imageId}/file`, {
      body: archive,
      contentType: 'application/octet-stream',
    });
    const image = await call(operator, 'image', 'GET', `/v2/images/${imageId}`);

    assert.equal(uploaded.status, 204, uploaded.text);
    assert.equal(image.body.status, 'active');
    assert.equal(image.body.container_format, 'docker');
    assert.equal(image.body.size, archive.length);
  });

  it('boots the docker image on test-net to ACTIVE', async function () {
    assert.ok(imageId, 'needs the image of the previous test');
    const networks = await call(operator, 'network', 'GET', `/networks?name=${cloud.networkName}`);
    networkId = networks.body.networks[0].id as string;

    const created = await call(operator, 'compute', 'POST', '/servers', {
      microversion: MICROVERSION,
      body: {
        server: {
          name: `smoke-${unique}`,
          imageRef: imageId,
          flavorRef: cloud.flavors.tiny,
          networks: [{ uuid: networkId }],
        },
      },
    });
    assert.equal(created.status, 202, created.text);
    serverIds.push(created.body.server.id as string);
    const server = await serverStatus(operator, created.body.server.id, 'ACTIVE');

    assert.equal(server.image.id, imageId);
    assert.equal(server.flavor.original_name, cloud.flavors.tiny);
    assert.equal(server.addresses[cloud.networkName]?.length, 1);
  });

  it('sets a tag on the operator server', async function () {
    const id = serverIds[0];
    assert.ok(id, 'needs the server of the previous test');

    const put = await call(operator, 'compute', 'PUT', `/servers/${id}/tags/owner-${unique}`, {
      microversion: MICROVERSION,
    });
    const tags = await call(operator, 'compute', 'GET', `/servers/${id}/tags`, {
      microversion: MICROVERSION,
    });

    assert.equal(put.status, 201, put.text);
    assert.deepEqual(tags.body.tags, [`owner-${unique}`]);
  });

  it('deletes the server until it is gone', async function () {
    const id = serverIds[0];
    assert.ok(id, 'needs the server of the previous test');

    const deleted = await call(operator, 'compute', 'DELETE', `/servers/${id}`, {
      microversion: MICROVERSION,
    });
    await waitFor(`server ${id} to be gone`, async () => {
      const response = await call(operator, 'compute', 'GET', `/servers/${id}`, {
        microversion: MICROVERSION,
      });
      return response.status === 404;
    });

    assert.equal(deleted.status, 204, deleted.text);
  });

  it('puts an unschedulable server into ERROR with its fault', async function () {
    assert.ok(imageId, 'needs the image of an earlier test');

    const created = await call(operator, 'compute', 'POST', '/servers', {
      microversion: MICROVERSION,
      body: {
        server: {
          name: `unschedulable-${unique}`,
          imageRef: imageId,
          flavorRef: cloud.flavors.unschedulable,
          networks: 'none',
        },
      },
    });
    assert.equal(created.status, 202, created.text);
    serverIds.push(created.body.server.id as string);
    const server = await serverStatus(operator, created.body.server.id, 'ERROR');

    assert.equal(server.fault.code, 500);
    assert.match(server.fault.message, /No valid host was found/);
  });

  it('refuses a server over the RAM quota with 403', async function () {
    assert.ok(imageId, 'needs the image of an earlier test');
    const quotaUser = await passwordSession(
      await testCloudCredentials(cloud, cloud.quotaProjectCloudName),
    );
    const shared = await call(operator, 'image', 'PATCH', `/v2/images/${imageId}`, {
      body: [{ op: 'replace', path: '/visibility', value: 'community' }],
      contentType: 'application/openstack-images-v2.1-json-patch',
    });
    assert.equal(shared.status, 200, shared.text);

    const created = await call(quotaUser, 'compute', 'POST', '/servers', {
      microversion: MICROVERSION,
      body: {
        server: {
          name: `over-quota-${unique}`,
          imageRef: imageId,
          flavorRef: cloud.flavors.tiny,
          networks: 'none',
        },
      },
    });

    assert.equal(created.status, 403, created.text);
    assert.match(created.body.forbidden.message, /Quota exceeded for ram/);
  });
});
