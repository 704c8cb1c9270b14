import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { request } from 'node:http';
import path from 'node:path';

import { startDevCloud, type DevCloud } from '../../support/devcloud.js';
import { call, passwordSession, type Session } from '../../support/openstack-http.js';
import { waitFor } from '../../support/process.js';
import { createServer, memberSession, uploadImage, waitForStatus } from './helpers.js';

const patchType = 'application/openstack-images-v2.1-json-patch';

describe('dev cloud Glance, Keystone and Neutron', function () {
  let cloud: DevCloud;
  let session: Session;

  before(async function () {
    cloud = await startDevCloud({
      name: 'devcloud-services',
      extraArgs: ['--token-lifetime', '600'],
    });
    session = await memberSession(cloud);
  });

  after(async function () {
    await cloud?.stop();
  });

  describe('Glance', function () {
    it('streams image data in and out', async function () {
      const data = randomBytes(3 * 1024 * 1024 + 17);
      const id = await uploadImage(session, 'example/data:1', data);
      const image = (await call(session, 'image', 'GET', `/v2/images/${id}`)).body;
      assert.equal(image.status, 'active');
      assert.equal(image.size, data.length);
      assert.equal(image.checksum, createHash('md5').update(data).digest('hex'));
      assert.equal(image.os_hash_algo, 'sha512');
      assert.equal(image.os_hash_value, createHash('sha512').update(data).digest('hex'));

      const download = await fetch(`${session.endpoints.image}/v2/images/${id}/file`, {
        headers: { 'X-Auth-Token': session.token },
      });
      assert.equal(download.status, 200);
      assert.ok(
        Buffer.from(await download.arrayBuffer()).equals(data),
        'downloaded data differs from the upload',
      );
    });

    it('returns to queued after a cut upload', async function () {
      const created = await call(session, 'image', 'POST', '/v2/images', {
        body: { name: 'example/cut:1', container_format: 'docker', disk_format: 'raw' },
      });
      const id = created.body.id as string;
      const upload = request(`${session.endpoints.image}/v2/images/${id}/file`, {
        method: 'PUT',
        headers: { 'X-Auth-Token': session.token, 'Content-Type': 'application/octet-stream' },
      });
      upload.on('error', () => undefined);
      upload.write(randomBytes(64 * 1024));
      await waitFor(
        'the upload to reach saving',
        async () => {
          return (await call(session, 'image', 'GET', `/v2/images/${id}`)).body.status === 'saving';
        },
        10_000,
        50,
      );
      upload.destroy();

      await waitFor(
        'the image to return to queued',
        async () => {
          return (await call(session, 'image', 'GET', `/v2/images/${id}`)).body.status === 'queued';
        },
        10_000,
        50,
      );
      const leftovers = (await readdir(path.join(cloud.dataDir, 'images'))).filter((name) =>
        name.startsWith(id),
      );
      assert.deepEqual(leftovers, []);
      const retry = await call(session, 'image', 'PUT', `/v2/images/${id}/file`, {
        body: Buffer.from('complete'),
        contentType: 'application/octet-stream',
      });
      assert.equal(retry.status, 204);
    });

    it('keeps a new image queued', async function () {
      const created = await call(session, 'image', 'POST', '/v2/images', {
        body: { name: 'queued', container_format: 'docker', disk_format: 'raw' },
      });
      assert.equal(created.body.status, 'queued');
      const file = await call(session, 'image', 'GET', `/v2/images/${created.body.id}/file`);
      assert.equal(file.status, 204);
    });

    it('refuses a second upload', async function () {
      const id = await uploadImage(session, 'example/twice:1', Buffer.from('one'));
      const again = await call(session, 'image', 'PUT', `/v2/images/${id}/file`, {
        body: Buffer.from('two'),
        contentType: 'application/octet-stream',
      });
      assert.equal(again.status, 409);
    });

    it('filters by custom property and tag', async function () {
      const digest = `sha256:${randomBytes(32).toString('hex')}`;
      const id = await uploadImage(session, 'example/filtered:1', Buffer.from('x'), {
        'nova_docker_operator.digest': digest,
        tags: ['managed'],
      });
      const byProperty = await call(
        session,
        'image',
        'GET',
        `/v2/images?nova_docker_operator.digest=${encodeURIComponent(digest)}`,
      );
      assert.deepEqual(
        byProperty.body.images.map((image: { id: string }) => image.id),
        [id],
      );
      const byTag = await call(session, 'image', 'GET', '/v2/images?tag=managed');
      assert.deepEqual(
        byTag.body.images.map((image: { id: string }) => image.id),
        [id],
      );
    });

    it('pages images with next', async function () {
      const all = (await call(session, 'image', 'GET', '/v2/images?limit=1000')).body.images.map(
        (image: { id: string }) => image.id,
      );
      const first = await call(session, 'image', 'GET', '/v2/images?limit=2');
      assert.deepEqual(
        first.body.images.map((image: { id: string }) => image.id),
        all.slice(0, 2),
      );
      const second = await call(session, 'image', 'GET', first.body.next);
      assert.deepEqual(
        second.body.images.map((image: { id: string }) => image.id),
        all.slice(2, 4),
      );
    });

    it('patches properties with json-patch', async function () {
      const id = await uploadImage(session, 'example/patched:1', Buffer.from('x'));
      const patched = await call(session, 'image', 'PATCH', `/v2/images/${id}`, {
        contentType: patchType,
        body: [
          { op: 'add', path: '/os_command_line', value: 'sleep 10' },
          { op: 'replace', path: '/name', value: 'example/renamed:1' },
        ],
      });
      assert.equal(patched.status, 200);
      assert.equal(patched.body.os_command_line, 'sleep 10');
      assert.equal(patched.body.name, 'example/renamed:1');

      const removed = await call(session, 'image', 'PATCH', `/v2/images/${id}`, {
        contentType: patchType,
        body: [{ op: 'remove', path: '/os_command_line' }],
      });
      assert.equal('os_command_line' in removed.body, false);
    });

    it('rejects bad patches', async function () {
      const id = await uploadImage(session, 'example/bad-patch:1', Buffer.from('x'));
      const plainJson = await call(session, 'image', 'PATCH', `/v2/images/${id}`, { body: [] });
      assert.equal(plainJson.status, 415);
      const readOnly = await call(session, 'image', 'PATCH', `/v2/images/${id}`, {
        contentType: patchType,
        body: [{ op: 'replace', path: '/status', value: 'killed' }],
      });
      assert.equal(readOnly.status, 403);
      const missing = await call(session, 'image', 'PATCH', `/v2/images/${id}`, {
        contentType: patchType,
        body: [{ op: 'replace', path: '/not_there', value: 'x' }],
      });
      assert.equal(missing.status, 409);
    });

    it('deletes images except protected ones', async function () {
      const id = await uploadImage(session, 'example/deleted:1', Buffer.from('x'), {
        protected: true,
      });
      assert.equal((await call(session, 'image', 'DELETE', `/v2/images/${id}`)).status, 403);
      await call(session, 'image', 'PATCH', `/v2/images/${id}`, {
        contentType: patchType,
        body: [{ op: 'replace', path: '/protected', value: false }],
      });
      assert.equal((await call(session, 'image', 'DELETE', `/v2/images/${id}`)).status, 204);
      const deletedImage = await call(session, 'image', 'GET', `/v2/images/${id}`);
      assert.equal(deletedImage.status, 404);
      assert.equal(deletedImage.body.code, '404 Not Found');
    });
  });

  describe('Keystone', function () {
    it('returns catalog with four services', async function () {
      const response = await fetch(`${cloud.authUrl}/auth/tokens`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({
          auth: {
            identity: {
              methods: ['password'],
              password: {
                user: { name: 'operator', domain: { id: 'default' }, password: 'devcloud' },
              },
            },
            scope: { project: { name: 'devcloud', domain: { id: 'default' } } },
          },
        }),
      });
      assert.equal(response.status, 201);
      assert.ok(response.headers.get('x-subject-token'), 'missing X-Subject-Token');
      const body = (await response.json()) as {
        token: { catalog: Array<{ type: string }>; expires_at: string; issued_at: string };
      };
      assert.deepEqual(body.token.catalog.map((service) => service.type).sort(), [
        'compute',
        'identity',
        'image',
        'network',
      ]);
      assert.equal(Date.parse(body.token.expires_at) - Date.parse(body.token.issued_at), 600_000);
    });

    it('rejects a wrong password', async function () {
      await assert.rejects(
        passwordSession({
          authUrl: cloud.authUrl,
          username: 'operator',
          password: 'wrong',
          projectName: 'devcloud',
        }),
        /failed with 401: .*"title":"Unauthorized"/,
      );
    });

    it('issues tokens for the application credential', async function () {
      const yaml = await import('yaml');
      const clouds = yaml.parse(cloud.cloudsYaml).clouds;
      const auth = clouds['devcloud-appcred'].auth;
      const response = await fetch(`${cloud.authUrl}/auth/tokens`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({
          auth: {
            identity: {
              methods: ['application_credential'],
              application_credential: {
                id: auth.application_credential_id,
                secret: auth.application_credential_secret,
              },
            },
          },
        }),
      });
      assert.equal(response.status, 201);
      const body = (await response.json()) as {
        token: { project: { id: string }; methods: string[] };
      };
      assert.equal(body.token.project.id, cloud.projectId);
      assert.deepEqual(body.token.methods, ['application_credential']);
    });

    it('refuses a revoked token', async function () {
      const revoked = await memberSession(cloud);
      const response = await fetch(`${cloud.authUrl}/auth/tokens`, {
        method: 'DELETE',
        headers: { 'X-Auth-Token': session.token, 'X-Subject-Token': revoked.token },
      });
      assert.equal(response.status, 204);
      assert.equal((await call(revoked, 'compute', 'GET', '/servers')).status, 401);
    });
  });

  describe('Neutron', function () {
    it('lists the private network', async function () {
      const response = await call(session, 'network', 'GET', '/networks?name=private');
      assert.equal(response.body.networks.length, 1);
      assert.equal(response.body.networks[0].id, cloud.networkId);
      const missing = await call(
        session,
        'network',
        'GET',
        '/networks/00000000-0000-4000-8000-000000000000',
      );
      assert.equal(missing.body.NeutronError.type, 'NetworkNotFound');
    });

    it('lists the port of a server', async function () {
      const imageId = await uploadImage(session, 'example/port:1', Buffer.from('x'));
      const id = await createServer(session, {
        name: 'ported',
        imageRef: imageId,
        flavorRef: 'd1',
        networks: [{ uuid: cloud.networkId }],
      });
      const server = await waitForStatus(session, id, 'ACTIVE');
      const ports = await call(session, 'network', 'GET', `/ports?device_id=${id}`);
      assert.equal(ports.body.ports.length, 1);
      assert.equal(ports.body.ports[0].fixed_ips[0].ip_address, server.addresses.private[0].addr);
      assert.equal(
        ports.body.ports[0].mac_address,
        server.addresses.private[0]['OS-EXT-IPS-MAC:mac_addr'],
      );
    });
  });
});
