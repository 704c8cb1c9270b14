import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';

import { isImagePublishError, type ImagePublishError } from '../../../src/images/errors.js';
import { glanceImages, imageProperty } from '../../../src/images/glance.js';
import {
  ImagePublisher,
  type ImagePublisherOptions,
  type PublishProgress,
} from '../../../src/images/publisher.js';
import type { PullSecret } from '../../../src/images/credentials.js';
import { OperatorMetrics } from '../../../src/observability/metrics.js';
import {
  loadCloudConfig,
  openCloud,
  type CloudConfig,
  type Image,
  type OpenStackClient,
} from '../../../src/openstack/index.js';
import { startDevCloud, type DevCloud } from '../../support/devcloud.js';
import {
  buildTestImage,
  pushImage,
  startRegistry,
  useDocker,
  useRegistry,
  type DockerEngine,
  type Registry,
  type RegistryAuth,
} from '../../support/docker.js';
import { registerCleanup } from '../../support/hooks.js';
import { useOpenStack } from '../../support/openstack.js';
import {
  captureLogs,
  CountingGlance,
  dockerLoad,
  pullEvents,
  startCuttingProxy,
} from './helpers.js';

/** A Glance to publish into: the dev cloud, or the real OpenStack test cloud. */
interface CloudTarget {
  title: string;
  /** Returns the cloud's config for the operator's (member) user, or skips the suite. */
  config(context: Mocha.Context): Promise<CloudConfig>;
}

let devCloud: Promise<DevCloud> | undefined;

const targets: CloudTarget[] = [
  {
    title: 'dev cloud',
    async config() {
      devCloud ??= startDevCloud({ name: 'devcloud-images' });
      const cloud = await devCloud;
      return loadCloudConfig({
        cloud: cloud.cloudName,
        env: { OS_CLIENT_CONFIG_FILE: cloud.cloudsYamlPath },
      });
    },
  },
  {
    title: 'real test cloud @openstack',
    async config(context) {
      const cloud = await useOpenStack(context);
      return loadCloudConfig({
        cloud: cloud.cloudName,
        env: { OS_CLIENT_CONFIG_FILE: cloud.cloudsYamlPath },
      });
    },
  },
];

/** An image pushed to a test registry and removed from the engine, so a publish must pull it. */
interface PushedImage {
  reference: string;
  digest: string;
}

function dockerConfigSecret(name: string, auths: Record<string, RegistryAuth>): PullSecret {
  return {
    metadata: { namespace: 'images-test', name },
    type: 'kubernetes.io/dockerconfigjson',
    data: { '.dockerconfigjson': Buffer.from(JSON.stringify({ auths })).toString('base64') },
  };
}

async function rejection(promise: Promise<unknown>): Promise<ImagePublishError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(isImagePublishError(err), `expected an ImagePublishError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected the publish to fail');
}

for (const target of targets) {
  describe(`image publisher on ${target.title}`, function () {
    this.timeout(300_000);

    let engine: DockerEngine;
    let registry: Registry;
    let config: CloudConfig;
    let client: OpenStackClient;
    const publishedDigests = new Set<string>();

    before(async function () {
      config = await target.config(this);
      engine = await useDocker();
      registry = await useRegistry();
      client = openCloud(config);
      registerCleanup(`images test client for ${target.title}`, () => client.close());
    });

    after(async function () {
      // The real cloud outlives the run, so remove every image the tests made.
      for (const digest of publishedDigests) {
        for (const image of await imagesWithDigest(digest)) {
          await client.image.deleteImage(image.id).catch(() => undefined);
        }
      }
    });

    function newPublisher(glance: CountingGlance, options: Partial<ImagePublisherOptions> = {}) {
      const logs = captureLogs();
      const publisher = new ImagePublisher({
        docker: engine.docker,
        glance,
        logger: logs.logger,
        ...options,
      });
      return { publisher, logs };
    }

    function countingGlance(): CountingGlance {
      return new CountingGlance(glanceImages(client));
    }

    async function pushTestImage(
      name: string,
      options: { sizeBytes?: number; target?: Registry } = {},
    ): Promise<PushedImage> {
      const host = (options.target ?? registry).host;
      const reference = `${host}/images-test/${name}-${randomBytes(3).toString('hex')}:1.0`;
      await buildTestImage(
        engine.docker,
        reference,
        options.sizeBytes === undefined ? {} : { sizeBytes: options.sizeBytes },
      );
      await pushImage(engine.docker, reference, options.target?.auth);
      const inspected = await engine.docker.getImage(reference).inspect();
      const digest = inspected.RepoDigests[0]!.split('@')[1]!;
      await engine.docker.getImage(reference).remove({ force: true });
      publishedDigests.add(digest);
      return { reference, digest };
    }

    async function imagesWithDigest(digest: string): Promise<Image[]> {
      return client.image.listImages({ properties: { [imageProperty.digest]: digest } });
    }

    it('publishes public image', async function () {
      const image = await pushTestImage('public');
      const glance = countingGlance();
      const operatorMetrics = new OperatorMetrics({ processMetrics: false });
      const { publisher } = newPublisher(glance, { metrics: operatorMetrics });
      const progress: PublishProgress[] = [];

      const result = await publisher.publish({
        reference: image.reference,
        command: ['sleep', '3600'],
        onProgress: (p) => progress.push(p),
      });
      const stored = await client.image.getImage(result.glanceID);

      assert.equal(result.reused, false);
      assert.equal(result.digest, image.digest);
      // The loaded name carries the digest, so a moved tag never reuses a stale local image.
      const expectedName = `${image.reference}-sha256-${image.digest.slice('sha256:'.length, 'sha256:'.length + 12)}`;
      assert.equal(result.name, expectedName);
      assert.equal(stored.name, expectedName);
      assert.equal(stored.status, 'active');
      assert.equal(stored.containerFormat, 'docker');
      assert.equal(stored.diskFormat, 'raw');
      assert.equal(stored.size, result.sizeBytes);
      assert.equal(stored.properties[imageProperty.commandLine], 'sleep 3600');
      assert.equal(stored.properties[imageProperty.hypervisorType], 'docker');
      assert.equal(stored.properties[imageProperty.digest], image.digest);
      assert.equal(stored.properties[imageProperty.source], image.reference);
      assert.equal(stored.properties[imageProperty.managed], 'true');
      assert.ok(stored.properties[imageProperty.lastUsed], 'last-used time is recorded');
      assert.equal(progress.at(-1)?.phase, 'done');
      assert.equal(progress.at(-1)?.bytesUploaded, result.sizeBytes);
      assert.ok(progress.some((p) => p.phase === 'uploading'));
      assert.equal(
        (await operatorMetrics.imageBytesUploaded.get()).values[0]?.value,
        result.sizeBytes,
      );

      // Nova-Docker boots by name: docker load of the stored data must yield the Glance name.
      const download = await client.image.downloadImage(result.glanceID);
      assert.deepEqual(await dockerLoad(engine.docker, download.stream), [stored.name]);
    });

    it('names digest-only image deterministically', async function () {
      const image = await pushTestImage('pinned');
      const repository = image.reference.slice(0, image.reference.lastIndexOf(':'));
      const { publisher } = newPublisher(countingGlance());

      const result = await publisher.publish({ reference: `${repository}@${image.digest}` });
      const download = await client.image.downloadImage(result.glanceID);
      const stored = await client.image.getImage(result.glanceID);

      assert.equal(
        result.name,
        `${repository}:sha256-${image.digest.slice('sha256:'.length, 'sha256:'.length + 12)}`,
      );
      assert.equal(stored.properties[imageProperty.commandLine], undefined);
      assert.deepEqual(await dockerLoad(engine.docker, download.stream), [result.name]);
    });

    it('publishes private image with credentials', async function () {
      const auth = { username: 'puller', password: `pw-${randomBytes(6).toString('hex')}` };
      const privateRegistry = await startRegistry({ htpasswd: auth });
      const image = await pushTestImage('private', { target: privateRegistry });
      const { publisher } = newPublisher(countingGlance());

      const result = await publisher.publish({
        reference: image.reference,
        pullSecrets: [dockerConfigSecret('regcred', { [privateRegistry.host]: auth })],
      });

      assert.equal(result.digest, image.digest);
      assert.equal((await client.image.getImage(result.glanceID)).status, 'active');
    });

    it('rejects wrong credentials naming registry', async function () {
      const auth = { username: 'puller', password: `pw-${randomBytes(6).toString('hex')}` };
      const privateRegistry = await startRegistry({ htpasswd: auth });
      const image = await pushTestImage('denied', { target: privateRegistry });
      const glance = countingGlance();
      const { publisher, logs } = newPublisher(glance);
      const wrongPassword = `wrong-${randomBytes(6).toString('hex')}`;
      const wrong = { username: 'puller', password: wrongPassword };

      const err = await rejection(
        publisher.publish({
          reference: image.reference,
          pullSecrets: [dockerConfigSecret('regcred', { [privateRegistry.host]: wrong })],
        }),
      );

      const secretForms = [
        wrongPassword,
        Buffer.from(`puller:${wrongPassword}`).toString('base64'),
      ];
      assert.equal(err.reason, 'unauthorized');
      assert.equal(err.transient, false);
      assert.equal(err.registry, privateRegistry.host);
      assert.match(
        err.message,
        new RegExp(`registry ${privateRegistry.host.replaceAll('.', '\\.')} rejected`),
      );
      assert.match(err.message, /images-test\/regcred/);
      for (const secret of secretForms) {
        assert.ok(!err.message.includes(secret), 'error message leaks the password');
        assert.ok(!logs.text().includes(secret), 'logs leak the password');
      }
      assert.equal(glance.counts.creates, 0, 'no Glance image is created');
    });

    it('reports missing tag as not found', async function () {
      const image = await pushTestImage('missing');
      const glance = countingGlance();
      const { publisher } = newPublisher(glance);
      const missing = image.reference.replace(/:1\.0$/, ':no-such-tag');

      const err = await rejection(publisher.publish({ reference: missing }));

      assert.equal(err.reason, 'notFound');
      assert.equal(err.transient, false);
      assert.match(err.message, /no-such-tag not found in registry/);
      assert.equal(glance.counts.creates, 0, 'no Glance image is created');
    });

    it('shares one upload among ten requests', async function () {
      const image = await pushTestImage('shared');
      const glance = countingGlance();
      const { publisher } = newPublisher(glance);

      const results = await Promise.all(
        Array.from({ length: 10 }, () =>
          publisher.publish({ reference: image.reference, command: 'sleep 60' }),
        ),
      );

      assert.equal(new Set(results.map((r) => r.glanceID)).size, 1);
      assert.equal(glance.counts.uploads, 1);
      assert.equal(await publisher.metrics.counterValue(publisher.metrics.pulls), 1);
      assert.equal((await imagesWithDigest(image.digest)).length, 1);
    });

    it('removes partial image after cut upload', async function () {
      const image = await pushTestImage('cut', { sizeBytes: 16 * 1024 * 1024 });
      const endpoint = new URL(await client.session.endpoint('image'));
      const proxy = await startCuttingProxy(Number(endpoint.port), 4 * 1024 * 1024);
      const proxied = openCloud({
        ...config,
        endpointOverrides: {
          ...config.endpointOverrides,
          image: `${proxy.origin}${endpoint.pathname}`,
        },
      });
      try {
        const glance = new CountingGlance(glanceImages(proxied));
        const { publisher } = newPublisher(glance);

        const err = await rejection(publisher.publish({ reference: image.reference }));

        assert.equal(err.reason, 'uploadFailed');
        assert.equal(err.transient, true);
        assert.equal(proxy.cuts, 1);
        assert.equal(glance.counts.deletes, 1);
        assert.deepEqual(await imagesWithDigest(image.digest), []);
      } finally {
        await proxied.close();
        await proxy.stop();
      }
    });

    it('reuses image on second request', async function () {
      const image = await pushTestImage('reused');
      const glance = countingGlance();
      const { publisher } = newPublisher(glance);
      const first = await publisher.publish({ reference: image.reference });

      // Docker events have one-second resolution; start the window after the first pull.
      await new Promise((resolve) => setTimeout(resolve, 1100));
      const since = Math.floor(Date.now() / 1000);
      const second = await publisher.publish({ reference: image.reference });
      const until = Math.ceil(Date.now() / 1000) + 1;

      assert.equal(second.reused, true);
      assert.equal(second.glanceID, first.glanceID);
      assert.equal(glance.counts.uploads, 1);
      assert.equal(await publisher.metrics.counterValue(publisher.metrics.pulls), 1);
      assert.equal(
        await publisher.metrics.counterValue(publisher.metrics.publishes, { result: 'reused' }),
        1,
      );
      assert.equal(await pullEvents(engine.docker, since, until), 0);
    });

    it('collects only old managed images', async function () {
      const glance = countingGlance();
      const { publisher } = newPublisher(glance);
      const owner = await client.session.projectId();
      const daysAgo = (days: number) => new Date(Date.now() - days * 86_400_000).toISOString();
      const digest = () => `sha256:${randomBytes(32).toString('hex')}`;
      const [unusedDigest, inUseDigest, recentDigest, unmanagedDigest] = [
        digest(),
        digest(),
        digest(),
        digest(),
      ];
      for (const d of [unusedDigest, inUseDigest, recentDigest, unmanagedDigest])
        publishedDigests.add(d);

      const create = async (name: string, properties: Record<string, string>, data: boolean) => {
        const created = await client.image.createImage({
          name: `images-test/gc-${name}`,
          containerFormat: 'docker',
          diskFormat: 'raw',
          visibility: 'private',
          properties,
        });
        if (data) await client.image.uploadImage(created.id, Readable.from([randomBytes(1024)]));
        return created.id;
      };
      const managed = (d: string, lastUsed: string) => ({
        [imageProperty.digest]: d,
        [imageProperty.managed]: 'true',
        [imageProperty.lastUsed]: lastUsed,
      });
      const oldUnused = await create('old-unused', managed(unusedDigest, daysAgo(3)), true);
      const oldInUse = await create('old-in-use', managed(inUseDigest, daysAgo(3)), true);
      const oldPartial = await create('old-partial', managed(inUseDigest, daysAgo(3)), false);
      const recentUnused = await create(
        'recent-unused',
        managed(recentDigest, daysAgo(0.05)),
        true,
      );
      const oldUnmanaged = await create(
        'old-unmanaged',
        { [imageProperty.digest]: unmanagedDigest, [imageProperty.lastUsed]: daysAgo(3) },
        true,
      );

      // The real cloud is shared: every other managed image counts as in use.
      const ours = new Set([unusedDigest, inUseDigest, recentDigest]);
      const others = (
        await client.image.listImages({ properties: { [imageProperty.managed]: 'true' }, owner })
      )
        .map((image) => image.properties[imageProperty.digest])
        .filter((d): d is string => d !== undefined && !ours.has(d));

      const startedAt = Date.now();
      const result = await publisher.collectGarbage({ digestsInUse: [inUseDigest, ...others] });
      const exists = async (id: string) =>
        client.image.getImage(id).then(
          (image) => image,
          () => undefined,
        );

      assert.deepEqual(result.deleted.map((d) => d.id).sort(), [oldUnused, oldPartial].sort());
      assert.equal(await exists(oldUnused), undefined);
      assert.equal(await exists(oldPartial), undefined);
      assert.ok(await exists(recentUnused), 'recently used image is kept');
      assert.ok(await exists(oldUnmanaged), 'unmanaged image is kept');
      const inUse = await exists(oldInUse);
      assert.ok(inUse, 'image in use is kept');
      assert.ok(
        Date.parse(inUse.properties[imageProperty.lastUsed]!) >= startedAt - 1000,
        'last use is refreshed',
      );
      assert.equal(await publisher.metrics.counterValue(publisher.metrics.garbageCollected), 2);
    });
  });
}
