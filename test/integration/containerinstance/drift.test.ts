import assert from 'node:assert/strict';

import type { ContainerInstance } from '../../../src/api/index.js';
import { waitFor } from '../../support/process.js';
import { useInstanceEnvironment } from './environment.js';
import { assertNoSecretsLogged } from './logs.js';
import { condition, startScenario, type Scenario } from './scenario.js';

/** Removes a server's container behind the dev cloud's back, which puts the server in ERROR. */
async function removeContainer(scenario: Scenario, serverID: string): Promise<void> {
  await scenario.env.docker.docker.getContainer(`nova-${serverID}`).remove({ force: true });
}

describe('ContainerInstance drift outside the operator', function () {
  this.timeout(300_000);

  describe('with errored servers only reported', function () {
    let scenario: Scenario;

    before(async function () {
      this.timeout(900_000);
      scenario = await startScenario(await useInstanceEnvironment(), 'cinst-drift', {
        operatorArgs: ['--no-recreate-errored-servers'],
      });
    });

    after(async function () {
      this.timeout(120_000);
      await scenario?.cleanup();
    });

    describe('server deleted out of band', function () {
      let original: ContainerInstance;
      let replaced: ContainerInstance;

      before(async function () {
        await scenario.create('deleted', {});
        original = await scenario.waitForReady('deleted', 240_000);
        await scenario.env.cloud.client.compute.deleteServer(original.status!.serverID!);
        replaced = await scenario.waitFor(
          'deleted',
          'Ready on a replacement server',
          (instance) =>
            condition(instance, 'Ready')?.status === 'True' &&
            instance.status?.serverID !== original.status?.serverID,
        );
      });

      it('creates a replacement server', async function () {
        const servers = await scenario.servers(replaced);
        assert.deepEqual(
          servers.map((server) => server.id),
          [replaced.status?.serverID],
        );
      });

      it('records a ServerDeletedOutOfBand Event', async function () {
        const event = await scenario.waitForEvent('deleted', 'ServerDeletedOutOfBand');
        assert.match(event.note ?? '', new RegExp(original.status!.serverID!));
      });
    });

    describe('server in ERROR', function () {
      let ready: ContainerInstance;
      let errored: ContainerInstance;

      before(async function () {
        await scenario.create('errored', {});
        ready = await scenario.waitForReady('errored', 240_000);
        await removeContainer(scenario, ready.status!.serverID!);
        errored = await scenario.waitFor(
          'errored',
          'phase Failed',
          (instance) => instance.status?.phase === 'Failed',
        );
      });

      it('copies the Nova fault', function () {
        assert.match(errored.status?.fault?.message ?? '', /was not found on the container engine/);
        assert.equal(errored.status?.fault?.code, 500);
      });

      it('sets Ready to False', function () {
        assert.equal(condition(errored, 'Ready')?.status, 'False');
      });

      it('sets Stalled with reason ServerError', async function () {
        const stalled = await scenario.waitFor(
          'errored',
          'Stalled=True',
          (instance) => condition(instance, 'Stalled')?.status === 'True',
        );
        assert.equal(condition(stalled, 'Stalled')?.reason, 'ServerError');
      });

      it('records a ServerError Event with the fault', async function () {
        const event = await scenario.waitForEvent('errored', 'ServerError');
        assert.match(event.note ?? '', /was not found on the container engine/);
      });

      it('keeps the server', function () {
        assert.equal(errored.status?.serverID, ready.status?.serverID);
      });

      describe('recovered by a rebuild', function () {
        let recovered: ContainerInstance;

        before(async function () {
          const server = await scenario.env.cloud.client.compute.getServer(ready.status!.serverID!);
          await scenario.env.cloud.client.compute.rebuildServer(server.id, {
            imageRef: server.imageId!,
          });
          recovered = await scenario.waitForReady('errored');
        });

        it('reports phase Running', function () {
          assert.equal(recovered.status?.phase, 'Running');
        });

        it('removes the fault', function () {
          assert.equal(recovered.status?.fault, undefined);
        });

        it('clears Stalled', function () {
          assert.equal(condition(recovered, 'Stalled')?.status, 'False');
        });

        it('records a ServerRecovered Event', async function () {
          await scenario.waitForEvent('errored', 'ServerRecovered');
        });
      });
    });

    describe('deletionPolicy Orphan', function () {
      let instance: ContainerInstance;

      before(async function () {
        await scenario.create('orphan', { deletionPolicy: 'Orphan' });
        instance = await scenario.waitForReady('orphan', 240_000);
        await scenario.delete('orphan');
        await scenario.waitForGone('orphan');
      });

      after(async function () {
        await scenario.env.cloud.client.compute
          .deleteServer(instance.status!.serverID!)
          .catch(() => undefined);
      });

      it('keeps the server running', async function () {
        const server = await scenario.env.cloud.client.compute.getServer(
          instance.status!.serverID!,
        );
        assert.equal(server.status, 'ACTIVE');
      });

      it('keeps the container running', async function () {
        const info = await scenario.env.docker.docker
          .getContainer(`nova-${instance.status!.serverID}`)
          .inspect();
        assert.equal(info.State.Running, true);
      });
    });

    describe('after the run', function () {
      it('logs no secret', async function () {
        await assertNoSecretsLogged(scenario);
      });
    });
  });

  describe('with errored servers replaced after a grace period', function () {
    let scenario: Scenario;
    let ready: ContainerInstance;
    let replaced: ContainerInstance;

    before(async function () {
      this.timeout(900_000);
      scenario = await startScenario(await useInstanceEnvironment(), 'cinst-errored', {
        operatorArgs: ['--errored-server-grace', '2s'],
      });
      await scenario.create('errored', {});
      ready = await scenario.waitForReady('errored', 240_000);
      await removeContainer(scenario, ready.status!.serverID!);
      await scenario.waitFor(
        'errored',
        'phase Failed',
        (instance) => instance.status?.phase === 'Failed',
      );
      replaced = await scenario.waitFor(
        'errored',
        'Ready on a replacement server',
        (instance) =>
          condition(instance, 'Ready')?.status === 'True' &&
          instance.status?.serverID !== ready.status?.serverID,
      );
    });

    after(async function () {
      this.timeout(120_000);
      await scenario?.cleanup();
    });

    it('replaces the server', async function () {
      const servers = await scenario.servers(replaced);
      assert.deepEqual(
        servers.map((server) => server.id),
        [replaced.status?.serverID],
      );
    });

    it('deletes the errored server', async function () {
      await waitFor(
        'the errored server to be gone',
        async () =>
          (await scenario.env.cloud.client.compute
            .getServer(ready.status!.serverID!)
            .catch(() => undefined)) === undefined,
        30_000,
      );
    });

    it('records a Recreating Warning', async function () {
      const event = await scenario.waitForEvent('errored', 'Recreating');
      assert.equal(event.type, 'Warning');
    });

    it('logs no secret', async function () {
      await assertNoSecretsLogged(scenario);
    });
  });
});
