import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import type { Readable } from 'node:stream';

import {
  buildTestImage,
  pullImage,
  pushImage,
  startRegistry,
  useDocker,
  useRegistry,
  type DockerEngine,
  type Registry,
} from '../../support/docker.js';

/** Lists the entry names of a tar stream with GNU tar. */
async function tarEntries(stream: Readable): Promise<string[]> {
  const tar = spawn('tar', ['-tf', '-'], { stdio: ['pipe', 'pipe', 'inherit'] });
  stream.pipe(tar.stdin);
  let listing = '';
  tar.stdout.setEncoding('utf8').on('data', (chunk: string) => (listing += chunk));
  const [code] = (await once(tar, 'close')) as [number | null];
  assert.equal(code, 0, 'tar -t failed on the docker save output');
  return listing.split('\n').filter(Boolean);
}

describe('harness docker engine and registry', function () {
  this.timeout(180_000);

  let engine: DockerEngine;
  let registry: Registry;

  before(async function () {
    engine = await useDocker();
    registry = await useRegistry();
  });

  it('builds runnable busybox image offline', async function () {
    const image = await buildTestImage(engine.docker, 'ndo-test/busybox:run', {
      cmd: ['sh', '-c', 'echo "greeting=$GREETING"'],
      env: ['GREETING=hello'],
    });
    const container = await engine.docker.createContainer({
      Image: image.reference,
      HostConfig: { NetworkMode: 'none' },
    });
    try {
      await container.start();
      const result = (await container.wait()) as { StatusCode: number };
      const logs = (await container.logs({ stdout: true, stderr: true })).toString('utf8');

      assert.equal(result.StatusCode, 0);
      assert.match(logs, /greeting=hello/);
    } finally {
      await container.remove({ force: true });
    }
  });

  it('adds filler file of requested size', async function () {
    const sizeBytes = 8 * 1024 * 1024;
    const image = await buildTestImage(engine.docker, 'ndo-test/busybox:filler', { sizeBytes });
    const inspect = await engine.docker.getImage(image.reference).inspect();

    assert.ok(
      inspect.Size >= sizeBytes,
      `image size ${inspect.Size} is below the filler size ${sizeBytes}`,
    );
  });

  it('rejects invalid image reference', async function () {
    await assert.rejects(
      buildTestImage(engine.docker, 'bad name:v1'),
      /invalid image reference "bad name:v1"/,
    );
  });

  it('pushes, removes and pulls back image', async function () {
    const reference = `${registry.host}/ndo-test/roundtrip:v1`;
    const built = await buildTestImage(engine.docker, reference);
    const layersBefore = (await engine.docker.getImage(reference).inspect()).RootFS.Layers;

    await pushImage(engine.docker, reference);
    await engine.docker.getImage(reference).remove({ force: true });
    await assert.rejects(engine.docker.getImage(reference).inspect(), /no such image/i);

    await pullImage(engine.docker, reference);
    const pulled = await engine.docker.getImage(reference).inspect();

    assert.deepEqual(pulled.RootFS.Layers, layersBefore);
    assert.equal(pulled.Id, built.id);
  });

  it('saves pulled image with manifest.json', async function () {
    const reference = `${registry.host}/ndo-test/save:v1`;
    await buildTestImage(engine.docker, reference);
    await pushImage(engine.docker, reference);
    await engine.docker.getImage(reference).remove({ force: true });
    await pullImage(engine.docker, reference);

    const entries = await tarEntries((await engine.docker.getImage(reference).get()) as Readable);

    assert.ok(
      entries.includes('manifest.json'),
      `docker save output lacks manifest.json: ${entries.join(', ')}`,
    );
    assert.ok(
      entries.includes('repositories'),
      `docker save output lacks repositories: ${entries.join(', ')}`,
    );
  });

  describe('registry with basic authentication', function () {
    const credentials = { username: 'tester', password: 'not-a-real-secret-1' };
    let privateRegistry: Registry;

    before(async function () {
      privateRegistry = await startRegistry({ htpasswd: credentials });
    });

    after(async function () {
      await privateRegistry.stop();
    });

    it('rejects anonymous push', async function () {
      const reference = `${privateRegistry.host}/ndo-test/private:v1`;
      await buildTestImage(engine.docker, reference);

      await assert.rejects(
        pushImage(engine.docker, reference),
        /no basic auth credentials|unauthorized/i,
      );
    });

    it('accepts push and pull with credentials', async function () {
      const reference = `${privateRegistry.host}/ndo-test/private:v2`;
      await buildTestImage(engine.docker, reference);

      await pushImage(engine.docker, reference, credentials);
      await engine.docker.getImage(reference).remove({ force: true });
      await pullImage(engine.docker, reference, credentials);

      const pulled = await engine.docker.getImage(reference).inspect();
      assert.deepEqual(pulled.RepoTags, [reference]);
    });

    it('rejects pull with wrong password', async function () {
      const reference = `${privateRegistry.host}/ndo-test/private:v2`;
      const wrong = { ...credentials, password: 'wrong' };

      await assert.rejects(
        pullImage(engine.docker, reference, wrong),
        /unauthorized|authentication required/i,
      );
    });
  });
});
