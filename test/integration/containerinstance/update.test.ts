import assert from 'node:assert/strict';

import type { ContainerInstance } from '../../../src/api/index.js';
import { waitFor } from '../../support/process.js';
import { useInstanceEnvironment } from './environment.js';
import { assertNoSecretsLogged } from './logs.js';
import { condition, startScenario, type Scenario } from './scenario.js';

describe('ContainerInstance spec updates', function () {
  this.timeout(300_000);
  let scenario: Scenario;
  let original: ContainerInstance;

  before(async function () {
    this.timeout(900_000);
    scenario = await startScenario(await useInstanceEnvironment(), 'cinst-update');
    await scenario.createSecret('app-secret', { password: 'first-secret-3d9a' });
    await scenario.create('app', {
      env: [
        { name: 'MODE', value: 'blue' },
        { name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'app-secret', key: 'password' } } },
      ],
    });
    original = await scenario.waitForReady('app', 240_000);
  });

  after(async function () {
    this.timeout(120_000);
    await scenario?.cleanup();
  });

  describe('env change', function () {
    let updated: ContainerInstance;

    before(async function () {
      await scenario.patchSpec('app', {
        env: [
          { name: 'MODE', value: 'green' },
          { name: 'EXTRA', value: 'added' },
          {
            name: 'PASSWORD',
            valueFrom: { secretKeyRef: { name: 'app-secret', key: 'password' } },
          },
        ],
      });
      updated = await scenario.waitForReady('app');
    });

    it('keeps the server', function () {
      assert.equal(updated.status?.serverID, original.status?.serverID);
    });

    it('passes the new env into the container', async function () {
      const env = await scenario.containerEnv(updated.status!.serverID!);
      assert.equal(env.MODE, 'green');
      assert.equal(env.EXTRA, 'added');
      assert.equal(env.PASSWORD, 'first-secret-3d9a');
    });

    it('records a Rebuilding Event naming the keys', async function () {
      const event = await scenario.waitForEvent('app', 'Rebuilding');
      assert.match(event.note ?? '', /environment changed: EXTRA, MODE/);
    });
  });

  describe('Secret value change', function () {
    it('rebuilds with the new Secret value', async function () {
      await scenario.updateSecret('app-secret', { password: 'second-secret-7c1b' });
      const serverID = original.status!.serverID!;
      await waitFor(
        'the container to get the new Secret value',
        async () => (await scenario.containerEnv(serverID)).PASSWORD === 'second-secret-7c1b',
        60_000,
        250,
      );
    });
  });

  describe('image change', function () {
    let updated: ContainerInstance;

    before(async function () {
      await scenario.patchSpec('app', { image: scenario.env.images.v2 });
      updated = await scenario.waitFor(
        'app',
        'Ready on the new image',
        (instance) =>
          instance.status?.observedGeneration === instance.metadata.generation &&
          condition(instance, 'Ready')?.status === 'True' &&
          instance.status?.image?.glanceID !== original.status?.image?.glanceID,
        120_000,
      );
    });

    it('keeps the server', function () {
      assert.equal(updated.status?.serverID, original.status?.serverID);
    });

    it('records the new image digest', function () {
      assert.notEqual(updated.status?.image?.digest, original.status?.image?.digest);
    });

    it('runs the new image in the container', async function () {
      const env = await scenario.containerEnv(updated.status!.serverID!);
      assert.equal(env.VERSION, '2');
    });

    it('boots the server from the new Glance image', async function () {
      const [server] = await scenario.servers(updated);
      assert.equal(server?.imageId, updated.status?.image?.glanceID);
    });
  });

  describe('flavor change', function () {
    let updated: ContainerInstance;

    before(async function () {
      await scenario.patchSpec('app', { flavor: 'm1.small' });
      updated = await scenario.waitFor(
        'app',
        'Ready on a new server',
        (instance) =>
          instance.status?.observedGeneration === instance.metadata.generation &&
          condition(instance, 'Ready')?.status === 'True' &&
          instance.status?.serverID !== original.status?.serverID,
        120_000,
      );
    });

    it('replaces the server', async function () {
      const servers = await scenario.servers(updated);
      assert.deepEqual(
        servers.map((server) => server.id),
        [updated.status?.serverID],
      );
    });

    it('uses the new flavor', async function () {
      const [server] = await scenario.servers(updated);
      assert.equal(server?.flavor?.name, 'm1.small');
    });

    it('records a Recreating Event naming the flavor', async function () {
      const event = await scenario.waitForEvent('app', 'Recreating');
      assert.match(event.note ?? '', /flavor changed from m1\.tiny to m1\.small/);
    });
  });

  describe('power state Stopped', function () {
    let updated: ContainerInstance;

    before(async function () {
      await scenario.patchSpec('app', { powerState: 'Stopped' });
      updated = await scenario.waitForReady('app');
    });

    it('reports phase Stopped', function () {
      assert.equal(updated.status?.phase, 'Stopped');
    });

    it('stops the container', async function () {
      const info = await scenario.env.docker.docker
        .getContainer(`nova-${updated.status!.serverID}`)
        .inspect();
      assert.equal(info.State.Running, false);
    });
  });

  describe('power state Paused', function () {
    let updated: ContainerInstance;

    before(async function () {
      await scenario.patchSpec('app', { powerState: 'Paused' });
      updated = await scenario.waitFor(
        'app',
        'phase Paused',
        (instance) =>
          instance.status?.phase === 'Paused' && condition(instance, 'Ready')?.status === 'True',
      );
    });

    it('reports power state Paused', function () {
      assert.equal(updated.status?.powerState, 'Paused');
    });

    it('pauses the container', async function () {
      const info = await scenario.env.docker.docker
        .getContainer(`nova-${updated.status!.serverID}`)
        .inspect();
      assert.equal(info.State.Paused, true);
    });
  });

  describe('tags change', function () {
    before(async function () {
      await scenario.patchSpec('app', { powerState: 'Running', tags: ['tier-1'] });
      await scenario.waitForReady('app');
    });

    it('sets the new tags on the server', async function () {
      const instance = (await scenario.get('app'))!;
      const [server] = await scenario.servers(instance);
      assert.ok(server?.tags.includes('tier-1'), server?.tags.join(', '));
    });
  });

  describe('after the run', function () {
    it('logs no secret', async function () {
      await assertNoSecretsLogged(scenario, ['first-secret-3d9a', 'second-secret-7c1b']);
    });
  });
});
