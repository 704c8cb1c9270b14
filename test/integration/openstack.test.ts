/**
 * The OpenStack client against the real test cloud (Keystone, Nova with the
 * fake compute driver, Glance, Neutron): authentication, microversions,
 * lookups, the server and image lifecycles, and how real error responses
 * map to error classes.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';

import {
  loadCloudConfig,
  OpenStackClientCache,
  OpenStackError,
  OpenStackLookupError,
  cloudConfigFromString,
  type OpenStackClient,
  type RequestEvent,
} from '../../src/openstack/index.js';
import { useOpenStack, type TestCloud } from '../support/openstack.js';
import { waitFor } from '../support/process.js';

const uploadBytes = 4 * 1024 * 1024;

/** Generates `total` pseudo-random bytes in 64 KiB chunks and hashes them as they are read. */
function generatedData(total: number): { stream: Readable; sha512: () => string } {
  const hash = createHash('sha512');
  async function* chunks() {
    for (let sent = 0; sent < total;) {
      const chunk = randomBytes(Math.min(64 * 1024, total - sent));
      hash.update(chunk);
      sent += chunk.length;
      yield chunk;
    }
  }
  let digest: string | undefined;
  return { stream: Readable.from(chunks()), sha512: () => (digest ??= hash.digest('hex')) };
}

/** Returns the rejection of a promise that must fail. */
async function failure(promise: Promise<unknown>): Promise<OpenStackError> {
  const err = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  assert.ok(err instanceof OpenStackError, `expected an OpenStackError, got ${String(err)}`);
  return err;
}

describe('@openstack OpenStack client on the test cloud', function () {
  this.timeout(120_000);

  let cloud: TestCloud;
  let clients: OpenStackClientCache;
  let client: OpenStackClient;
  let events: RequestEvent[];
  let bootImageId: string;
  const runTag = `osclient-${randomUUID().slice(0, 8)}`;
  const serverIds: string[] = [];
  const imageIds: string[] = [];

  const configFor = (cloudName: string) =>
    loadCloudConfig({ cloud: cloudName, env: { OS_CLIENT_CONFIG_FILE: cloud.cloudsYamlPath } });

  before(async function () {
    cloud = await useOpenStack(this);
    events = [];
    clients = new OpenStackClientCache({ observer: (event) => events.push(event) });
    client = clients.get(configFor(cloud.cloudName));

    // Nova checks that imageRef exists in Glance; the fake driver never reads the data.
    // Community visibility lets the quota project's user boot it too.
    const image = await client.image.createImage({
      name: `${runTag}-boot`,
      containerFormat: 'bare',
      diskFormat: 'raw',
      visibility: 'community',
    });
    imageIds.push(image.id);
    await client.image.uploadImage(image.id, Readable.from([Buffer.from('boot image')]));
    bootImageId = image.id;
  });

  after(async () => {
    if (!client) return;
    for (const id of serverIds) await client.compute.deleteServer(id).catch(() => undefined);
    for (const id of serverIds) {
      await waitFor(`server ${id} to be deleted`, async () => {
        const err = await client.compute.getServer(id).then(
          () => undefined,
          (caught: unknown) => caught,
        );
        return err instanceof OpenStackError && err.errorClass === 'notFound';
      }).catch(() => undefined);
    }
    for (const id of imageIds) await client.image.deleteImage(id).catch(() => undefined);
    await clients.close();
  });

  describe('authentication', () => {
    it('issues a project token with a catalog', async () => {
      const token = await client.session.token();
      const types = token.catalog.map((entry) => entry.type);

      assert.equal(token.projectId, cloud.projectId);
      assert.ok(types.includes('compute'), `catalog types: ${types.join(', ')}`);
      assert.ok(types.includes('image'));
      assert.ok(types.includes('network'));
      assert.ok(token.expiresAt > Date.now());
      assert.match(await client.session.endpoint('compute'), /\/v2\.1$/);
      assert.match(await client.session.endpoint('image'), /\/v2$/);
      assert.match(await client.session.endpoint('network'), /\/v2\.0$/);
    });

    it('shares one session per configuration', () => {
      assert.equal(clients.get(configFor(cloud.cloudName)), client);
      assert.notEqual(clients.get(configFor(cloud.adminCloudName)), client);
    });

    it('maps a wrong password to unauthorized', async () => {
      const text = readFileSync(cloud.cloudsYamlPath, 'utf8');
      const config = cloudConfigFromString(text, { cloud: cloud.cloudName });
      if (config.auth.type !== 'password') assert.fail('the test cloud uses password auth');
      const wrong = cloudConfigFromString(
        text.replaceAll(config.auth.password.reveal(), 'wrong-password'),
        { cloud: cloud.cloudName },
      );
      const rejected = clients.get(wrong);

      const err = await failure(rejected.compute.listFlavors());

      assert.equal(err.errorClass, 'unauthorized');
      assert.equal(err.status, 401);
      assert.match(
        err.message,
        /Keystone rejected the password credentials of cloud "nova-docker-test"/,
      );
      assert.ok(!err.message.includes('wrong-password'));
    });
  });

  describe('compute', () => {
    it('negotiates the highest common microversion', async () => {
      const endpoint = await client.session.endpoint('compute');
      const document = (await (await fetch(`${endpoint}/`)).json()) as {
        version: { version: string };
      };
      const [serverMajor, serverMinor] = document.version.version.split('.').map(Number);
      const expected = serverMajor === 2 && serverMinor! < 96 ? document.version.version : '2.96';

      assert.equal(await client.compute.microversion(), expected);
    });

    it('finds flavors by name and ID', async () => {
      const byName = await client.compute.findFlavor(cloud.flavors.tiny);
      const byId = await client.compute.findFlavor(byName.id);
      const all = await client.compute.listFlavors();

      assert.equal(byName.name, cloud.flavors.tiny);
      assert.equal(byId.id, byName.id);
      assert.ok(all.some((flavor) => flavor.name === cloud.flavors.small));
    });

    it('lists existing flavors for an unknown one', async () => {
      const err = await failure(client.compute.findFlavor('m1.nonexistent'));

      assert.ok(err instanceof OpenStackLookupError);
      assert.equal(err.errorClass, 'notFound');
      assert.ok(err.available.includes(cloud.flavors.tiny));
      assert.match(
        err.message,
        /flavor "m1.nonexistent" not found in cloud "nova-docker-test" \(region RegionOne\); use one of: .*test\.tiny/,
      );
    });

    /** Creates a test.tiny server without network and waits until it is ACTIVE with no task. */
    async function bootTinyServer(name: string): Promise<string> {
      const flavor = await client.compute.findFlavor(cloud.flavors.tiny);
      const { id } = await client.compute.createServer({
        name,
        imageRef: bootImageId,
        flavorRef: flavor.id,
        networks: 'none',
      });
      serverIds.push(id);
      await waitFor(`server ${id} to be ACTIVE`, settledAs(id, 'ACTIVE'));
      return id;
    }

    /** Returns a check that the server has this status and no task runs on it. */
    const settledAs = (id: string, status: string) => async () => {
      const server = await client.compute.getServer(id);
      return server.status === status && !server.taskState;
    };

    it('creates, lists by tag, gets and deletes servers', async () => {
      const flavor = await client.compute.findFlavor(cloud.flavors.tiny);
      const tag = `${runTag}-servers`;
      // Nova compares changes-since at second resolution.
      const startedAt = new Date(Date.now() - 1000);
      const created: Array<{ id: string; requestId?: string }> = [];
      for (const name of ['first', 'second']) {
        const server = await client.compute.createServer({
          name: `${runTag}-${name}`,
          imageRef: bootImageId,
          flavorRef: flavor.id,
          networks: 'none',
          tags: [tag, `${runTag}-${name}`],
          metadata: { APP_MODE: name },
        });
        serverIds.push(server.id);
        created.push(server);
        assert.match(server.requestId ?? '', /^req-/);
      }

      // Nova pages over build requests and cells separately, so a server that
      // is placed between two page requests can be missed or repeated. Paging
      // is only consistent once both servers have left BUILD.
      for (const server of created) {
        await waitFor(
          `server ${server.id} to leave BUILD`,
          async () => (await client.compute.getServer(server.id)).status !== 'BUILD',
        );
      }

      // limit 1 forces one page per server, so both can only come back through pagination.
      const listed = await client.compute.listServers({ tags: [tag], limit: 1 });
      const onlyFirst = await client.compute.listServers({ tags: [tag, `${runTag}-first`] });
      const anyOf = await client.compute.listServers({
        tagsAny: [`${runTag}-first`, `${runTag}-second`],
      });
      const fetched = await client.compute.getServer(created[0]!.id);
      const changed = await client.compute.listServers({ changesSince: startedAt, tags: [tag] });
      const byName = await client.compute.listServers({ name: `^${runTag}-second$` });

      assert.deepEqual(
        listed.map((server) => server.id).sort(),
        created.map((server) => server.id).sort(),
      );
      assert.deepEqual(
        onlyFirst.map((server) => server.id),
        [created[0]!.id],
      );
      assert.equal(anyOf.length, 2);
      assert.equal(changed.length, 2);
      assert.deepEqual(
        byName.map((server) => server.id),
        [created[1]!.id],
      );
      assert.equal(fetched.name, `${runTag}-first`);
      assert.deepEqual(fetched.tags.sort(), [tag, `${runTag}-first`].sort());
      assert.deepEqual(fetched.metadata, { APP_MODE: 'first' });
      assert.equal(fetched.flavor?.name, cloud.flavors.tiny);
      assert.equal(fetched.imageId, bootImageId);
      assert.equal(fetched.projectId, cloud.projectId);

      await client.compute.deleteServer(created[1]!.id);
      await waitFor('deleted server to return 404', async () => {
        const err = await client.compute.getServer(created[1]!.id).then(
          () => undefined,
          (caught: unknown) => caught,
        );
        return err instanceof OpenStackError && err.errorClass === 'notFound';
      });
      const remaining = await client.compute.listServers({ tags: [tag] });
      assert.deepEqual(
        remaining.map((server) => server.id),
        [created[0]!.id],
      );
    });

    it('changes tags and metadata of a server', async () => {
      const flavor = await client.compute.findFlavor(cloud.flavors.tiny);
      const { id } = await client.compute.createServer({
        name: `${runTag}-meta`,
        imageRef: bootImageId,
        flavorRef: flavor.id,
        networks: 'none',
        metadata: { KEEP: 'yes', DROP: 'soon' },
      });
      serverIds.push(id);
      // Nova rejects tag changes with 409 while the server is building.
      await waitFor(
        `server ${id} to be ACTIVE`,
        async () => (await client.compute.getServer(id)).status === 'ACTIVE',
      );

      await client.compute.addServerTag(id, `${runTag}-added`);
      const merged = await client.compute.setServerMetadata(id, { EXTRA: '1' });
      await client.compute.deleteServerMetadata(id, 'DROP');
      const server = await client.compute.getServer(id);

      assert.deepEqual(await client.compute.listServerTags(id), [`${runTag}-added`]);
      assert.deepEqual(merged, { KEEP: 'yes', DROP: 'soon', EXTRA: '1' });
      assert.deepEqual(server.metadata, { KEEP: 'yes', EXTRA: '1' });
    });

    it('stops and starts a server', async () => {
      const flavor = await client.compute.findFlavor(cloud.flavors.tiny);
      const { id } = await client.compute.createServer({
        name: `${runTag}-power`,
        imageRef: bootImageId,
        flavorRef: flavor.id,
        networks: 'none',
      });
      serverIds.push(id);
      const statusIs = (status: string) => async () =>
        (await client.compute.getServer(id)).status === status;

      await waitFor(`server ${id} to be ACTIVE`, statusIs('ACTIVE'));
      await client.compute.stopServer(id);
      await waitFor(`server ${id} to be SHUTOFF`, statusIs('SHUTOFF'));
      await client.compute.startServer(id);
      await waitFor(`server ${id} to be ACTIVE again`, statusIs('ACTIVE'));

      assert.equal((await client.compute.getServer(id)).status, 'ACTIVE');
    });

    it('pauses, reboots and rebuilds a server', async () => {
      const id = await bootTinyServer(`${runTag}-actions`);
      const settled = (status: string) => settledAs(id, status);

      await client.compute.pauseServer(id);
      await waitFor(`server ${id} to be PAUSED`, settled('PAUSED'));
      await client.compute.unpauseServer(id);
      await waitFor(`server ${id} to be ACTIVE after unpause`, settled('ACTIVE'));
      await client.compute.rebootServer(id, 'HARD');
      await waitFor(`server ${id} to be ACTIVE after reboot`, settled('ACTIVE'));
      await client.compute.rebuildServer(id, { imageRef: bootImageId, name: `${runTag}-rebuilt` });
      await waitFor(`server ${id} to be ACTIVE after rebuild`, settled('ACTIVE'));
      const console = await client.compute.getConsoleOutput(id, 2);
      const rebuilt = await client.compute.getServer(id);

      assert.equal(rebuilt.name, `${runTag}-rebuilt`);
      assert.equal(typeof console, 'string');
      assert.ok(console.split('\n').filter(Boolean).length <= 2, `console output: ${console}`);
    });

    it('suspends and shelves a server', async () => {
      const name = `${runTag}-shelve`;
      const id = await bootTinyServer(name);
      const settled = (status: string) => settledAs(id, status);

      await client.compute.suspendServer(id);
      await waitFor(`server ${id} to be SUSPENDED`, settled('SUSPENDED'));
      await client.compute.resumeServer(id);
      await waitFor(`server ${id} to be ACTIVE after resume`, settled('ACTIVE'));
      await client.compute.shelveServer(id);
      await waitFor(`server ${id} to be SHELVED_OFFLOADED`, settled('SHELVED_OFFLOADED'));
      const wrongState = await failure(client.compute.resumeServer(id));
      await client.compute.unshelveServer(id);
      await waitFor(`server ${id} to be ACTIVE after unshelve`, settled('ACTIVE'));
      // Nova deletes the `<name>-shelved` snapshot it made for the shelve when the server is unshelved.
      const snapshots = await client.image.listImages({ name: `${name}-shelved` });

      assert.equal(wrongState.status, 409);
      assert.equal(snapshots.length, 0);
    });

    it('force-deletes a server', async () => {
      const flavor = await client.compute.findFlavor(cloud.flavors.tiny);
      const { id } = await client.compute.createServer({
        name: `${runTag}-force`,
        imageRef: bootImageId,
        flavorRef: flavor.id,
        networks: 'none',
      });
      serverIds.push(id);
      await waitFor(
        `server ${id} to be ACTIVE`,
        async () => (await client.compute.getServer(id)).status === 'ACTIVE',
      );

      await client.compute.forceDeleteServer(id);
      await waitFor(`server ${id} to return 404`, async () => {
        const err = await client.compute.getServer(id).then(
          () => undefined,
          (caught: unknown) => caught,
        );
        return err instanceof OpenStackError && err.errorClass === 'notFound';
      });

      const err = await failure(client.compute.getServer(id));
      assert.equal(err.errorClass, 'notFound');
    });

    it('maps an unknown field to badRequest', async () => {
      const microversion = await client.compute.microversion();
      const flavor = await client.compute.findFlavor(cloud.flavors.tiny);

      const err = await failure(
        client.session.request('compute', {
          method: 'POST',
          path: '/servers',
          route: '/servers',
          headers: { 'OpenStack-API-Version': `compute ${microversion}` },
          json: {
            server: {
              name: 'bad',
              imageRef: bootImageId,
              flavorRef: flavor.id,
              networks: 'none',
              bogus_field: 1,
            },
          },
        }),
      );

      assert.equal(err.errorClass, 'badRequest');
      assert.equal(err.status, 400);
      assert.match(
        err.serviceMessage,
        /Additional properties are not allowed \('bogus_field' was unexpected\)/,
      );
      // Nova echoes the request body in this message; the client omits it.
      assert.match(
        err.serviceMessage,
        /^Invalid input for field\/attribute server\. Value: \[omitted\]\. /,
      );
      assert.match(err.requestId ?? '', /^req-/);
    });

    it('maps a missing server to notFound', async () => {
      const id = randomUUID();

      const err = await failure(client.compute.getServer(id));

      assert.equal(err.errorClass, 'notFound');
      assert.equal(err.status, 404);
      assert.equal(err.serviceMessage, `Instance ${id} could not be found.`);
      assert.equal(err.service, 'compute');
      assert.equal(err.method, 'GET');
      assert.equal(err.path, `/v2.1/servers/${id}`);
    });

    it('maps an exceeded quota to quota', async () => {
      const quotaClient = clients.get(configFor(cloud.quotaProjectCloudName));
      const flavor = await quotaClient.compute.findFlavor(cloud.flavors.tiny);
      const image = await client.image.getImage(bootImageId);

      const err = await failure(
        quotaClient.compute.createServer({
          name: `${runTag}-quota`,
          imageRef: image.id,
          flavorRef: flavor.id,
          networks: 'none',
        }),
      );

      assert.equal(err.errorClass, 'quota', err.message);
      assert.equal(err.status, 403);
      assert.match(err.serviceMessage, /Quota exceeded for ram/);
      assert.equal(err.transient, true);
    });
  });

  describe('image', () => {
    it('uploads a stream and finds the image by property', async () => {
      const digest = `sha256:${randomBytes(32).toString('hex')}`;
      const image = await client.image.createImage({
        name: `${runTag}-upload`,
        containerFormat: 'docker',
        diskFormat: 'raw',
        properties: { docker_digest: digest, os_command_line: '/bin/true' },
        tags: [runTag],
      });
      imageIds.push(image.id);
      const data = generatedData(uploadBytes);

      const upload = await client.image.uploadImage(image.id, data.stream);
      const stored = await client.image.getImage(image.id);
      const found = await client.image.listImages({ properties: { docker_digest: digest } });

      assert.equal(image.status, 'queued');
      assert.equal(upload.bytesUploaded, uploadBytes);
      assert.equal(stored.status, 'active');
      assert.equal(stored.size, uploadBytes);
      assert.equal(stored.osHashAlgo, 'sha512');
      assert.equal(stored.osHashValue, data.sha512());
      assert.equal(stored.properties.os_command_line, '/bin/true');
      assert.deepEqual(
        found.map((candidate) => candidate.id),
        [image.id],
      );
    });

    it('pages through images and patches properties', async () => {
      const marker = `${runTag}-${randomBytes(4).toString('hex')}`;
      const created = [];
      for (const suffix of ['a', 'b', 'c']) {
        const image = await client.image.createImage({
          name: `${runTag}-page-${suffix}`,
          properties: { test_marker: marker },
        });
        imageIds.push(image.id);
        created.push(image.id);
      }

      const listed = await client.image.listImages({
        properties: { test_marker: marker },
        limit: 1,
      });
      const patched = await client.image.setImageProperties(created[0]!, {
        test_marker: null,
        note: 'patched',
      });
      const afterPatch = await client.image.listImages({ properties: { test_marker: marker } });

      assert.deepEqual(listed.map((image) => image.id).sort(), [...created].sort());
      assert.equal(patched.properties.note, 'patched');
      assert.equal(patched.properties.test_marker, undefined);
      assert.equal(afterPatch.length, 2);
    });

    it('downloads image data as a stream', async () => {
      const image = await client.image.createImage({ name: `${runTag}-download` });
      imageIds.push(image.id);
      const data = generatedData(512 * 1024);
      await client.image.uploadImage(image.id, data.stream);

      const download = await client.image.downloadImage(image.id);
      const hash = createHash('sha512');
      for await (const chunk of download.stream) hash.update(chunk as Buffer);

      assert.equal(download.contentLength, 512 * 1024);
      assert.equal(hash.digest('hex'), data.sha512());
    });

    it('deletes an image', async () => {
      const image = await client.image.createImage({ name: `${runTag}-delete` });

      await client.image.deleteImage(image.id);
      const err = await failure(client.image.getImage(image.id));

      assert.equal(err.errorClass, 'notFound');
      assert.equal(err.status, 404);
    });
  });

  describe('network', () => {
    it('finds the network by name and ID', async () => {
      const byName = await client.network.findNetwork(cloud.networkName);
      const byId = await client.network.findNetwork(byName.id);

      assert.equal(byName.name, cloud.networkName);
      assert.equal(byId.id, byName.id);
    });

    it('finds the default security group', async () => {
      const group = await client.network.findSecurityGroup('default');

      assert.equal(group.name, 'default');
      assert.equal(group.projectId, cloud.projectId);
    });

    it('lists existing networks for an unknown one', async () => {
      const err = await failure(client.network.findNetwork('no-such-net'));

      assert.equal(err.errorClass, 'notFound');
      assert.match(
        err.message,
        new RegExp(
          `network "no-such-net" not found in cloud "nova-docker-test" \\(region RegionOne\\); use one of: .*${cloud.networkName}`,
        ),
      );
    });

    it('maps a missing port to notFound', async () => {
      const err = await failure(client.network.getPort(randomUUID()));

      assert.equal(err.errorClass, 'notFound');
      assert.equal(err.status, 404);
      assert.match(err.serviceMessage, /Port .* could not be found/);
    });
  });
});
