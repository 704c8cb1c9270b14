/**
 * Servers suspended or shelved outside the operator, through the dev cloud's
 * Nova API: the operator resumes or unshelves them towards spec.powerState,
 * and leaves a shelved server of a Stopped instance shelved.
 */
import assert from 'node:assert/strict';

import type { ContainerInstance } from '../../../src/api/index.js';
import { waitFor } from '../../support/process.js';
import { useInstanceEnvironment } from './environment.js';
import { assertNoSecretsLogged } from './logs.js';
import { condition, startScenario, type Scenario } from './scenario.js';

describe('ContainerInstance suspended or shelved outside the operator', function () {
  this.timeout(300_000);
  let scenario: Scenario;

  before(async function () {
    this.timeout(900_000);
    scenario = await startScenario(await useInstanceEnvironment(), 'cinst-shelve');
  });

  after(async function () {
    this.timeout(120_000);
    await scenario?.cleanup();
  });

  /** Waits until the server has this status and no task runs. */
  async function waitForServer(serverID: string, status: string, timeoutMs = 90_000) {
    await waitFor(
      `server ${serverID} to be ${status}`,
      async () => {
        const server = await scenario.env.cloud.client.compute.getServer(serverID);
        return server.status === status && !server.taskState;
      },
      timeoutMs,
      250,
    );
  }

  /** Waits until the instance is Ready with its Ready message naming the server status. */
  function waitForReadyIn(name: string, status: string): Promise<ContainerInstance> {
    return scenario.waitFor(
      name,
      `Ready with the server ${status}`,
      (instance) =>
        condition(instance, 'Ready')?.status === 'True' &&
        new RegExp(`is ${status}\\b`).test(condition(instance, 'Ready')?.message ?? ''),
    );
  }

  describe('suspended server of Running instance', function () {
    let ready: ContainerInstance;
    let resumed: ContainerInstance;

    before(async function () {
      await scenario.create('suspended', {});
      ready = await scenario.waitForReady('suspended', 240_000);
      await scenario.env.cloud.client.compute.suspendServer(ready.status!.serverID!);
      await waitForServer(ready.status!.serverID!, 'SUSPENDED');
      await scenario.waitForEvent('suspended', 'Resuming');
      resumed = await waitForReadyIn('suspended', 'ACTIVE');
    });

    it('resumes the same server', function () {
      assert.equal(resumed.status?.serverID, ready.status?.serverID);
    });

    it('reports phase Running', function () {
      assert.equal(resumed.status?.phase, 'Running');
    });

    it('runs the container again', async function () {
      const info = await scenario.env.docker.docker
        .getContainer(`nova-${resumed.status!.serverID}`)
        .inspect();
      assert.equal(info.State.Paused, false);
      assert.equal(info.State.Running, true);
    });

    it('records a Resuming Event naming SUSPENDED', async function () {
      const event = await scenario.waitForEvent('suspended', 'Resuming');
      assert.match(event.note ?? '', /found SUSPENDED, towards power state Running/);
    });
  });

  describe('shelved server of Running instance', function () {
    let ready: ContainerInstance;
    let unshelved: ContainerInstance;

    before(async function () {
      await scenario.create('shelved', {});
      ready = await scenario.waitForReady('shelved', 240_000);
      await scenario.env.cloud.client.compute.shelveServer(ready.status!.serverID!);
      await scenario.waitForEvent('shelved', 'Unshelving');
      unshelved = await waitForReadyIn('shelved', 'ACTIVE');
    });

    it('unshelves the same server', function () {
      assert.equal(unshelved.status?.serverID, ready.status?.serverID);
    });

    it('runs the container again', async function () {
      const info = await scenario.env.docker.docker
        .getContainer(`nova-${unshelved.status!.serverID}`)
        .inspect();
      assert.equal(info.State.Running, true);
    });

    it('records an Unshelving Event naming the shelved status', async function () {
      const event = await scenario.waitForEvent('shelved', 'Unshelving');
      assert.match(event.note ?? '', /found SHELVED(_OFFLOADED)?, towards power state Running/);
    });
  });

  describe('suspended server of instance turned Stopped', function () {
    let stopped: ContainerInstance;

    before(async function () {
      await scenario.create('suspended-stopped', {});
      const ready = await scenario.waitForReady('suspended-stopped', 240_000);
      // Whether the operator sees the suspend before or after the spec change,
      // the server has to be resumed before Nova accepts os-stop.
      await scenario.env.cloud.client.compute.suspendServer(ready.status!.serverID!);
      await scenario.patchSpec('suspended-stopped', { powerState: 'Stopped' });
      stopped = await scenario.waitFor(
        'suspended-stopped',
        'Ready at the new generation with the server SHUTOFF',
        (instance) =>
          instance.status?.observedGeneration === instance.metadata.generation &&
          condition(instance, 'Ready')?.status === 'True' &&
          /is SHUTOFF\b/.test(condition(instance, 'Ready')?.message ?? ''),
      );
    });

    it('ends in phase Stopped', function () {
      assert.equal(stopped.status?.phase, 'Stopped');
    });

    it('records Resuming before Stopping', async function () {
      const reasons = (await scenario.events('suspended-stopped')).map((event) => event.reason);
      const resuming = reasons.indexOf('Resuming');
      assert.ok(resuming >= 0, `no Resuming Event in ${reasons.join(', ')}`);
      assert.ok(
        reasons.lastIndexOf('Stopping') > resuming,
        `no Stopping Event after Resuming in ${reasons.join(', ')}`,
      );
    });
  });

  describe('shelved server of Stopped instance', function () {
    let ready: ContainerInstance;
    let shelved: ContainerInstance;

    before(async function () {
      await scenario.create('shelved-stopped', { powerState: 'Stopped' });
      ready = await waitForReadyIn('shelved-stopped', 'SHUTOFF');
      await scenario.env.cloud.client.compute.shelveServer(ready.status!.serverID!);
      shelved = await waitForReadyIn('shelved-stopped', 'SHELVED_OFFLOADED');
    });

    it('reports phase Stopped', function () {
      assert.equal(shelved.status?.phase, 'Stopped');
    });

    it('leaves the server shelved', async function () {
      this.timeout(30_000);
      // The Ready message shows that the operator observed the shelved server.
      // Waiting past one idle list interval (5 s) gives a later reconcile time to act.
      await new Promise((resolve) => setTimeout(resolve, 6000));
      const server = await scenario.env.cloud.client.compute.getServer(ready.status!.serverID!);
      assert.equal(server.status, 'SHELVED_OFFLOADED');
    });

    it('sends no unshelve', async function () {
      const reasons = (await scenario.events('shelved-stopped')).map((event) => event.reason);
      assert.ok(!reasons.includes('Unshelving'), `Events: ${reasons.join(', ')}`);
    });

    it('is not Stalled', function () {
      assert.equal(condition(shelved, 'Stalled')?.status, 'False');
    });

    describe('environment change', function () {
      let rebuilt: ContainerInstance;

      before(async function () {
        await scenario.patchSpec('shelved-stopped', { env: [{ name: 'SHELF', value: 'rebuilt' }] });
        await scenario.waitForEvent('shelved-stopped', 'Rebuilding');
        rebuilt = await scenario.waitFor(
          'shelved-stopped',
          'Ready at the new generation with the server SHUTOFF',
          (instance) =>
            instance.status?.observedGeneration === instance.metadata.generation &&
            condition(instance, 'Ready')?.status === 'True' &&
            /is SHUTOFF\b/.test(condition(instance, 'Ready')?.message ?? ''),
        );
      });

      it('unshelves before the rebuild', async function () {
        const event = await scenario.waitForEvent('shelved-stopped', 'Unshelving');
        assert.match(event.note ?? '', /so that it can be rebuilt/);
      });

      it('sets the new environment', async function () {
        const env = await scenario.containerEnv(rebuilt.status!.serverID!);
        assert.equal(env.SHELF, 'rebuilt');
      });

      it('keeps the server', function () {
        assert.equal(rebuilt.status?.serverID, ready.status?.serverID);
      });
    });
  });

  describe('after the run', function () {
    it('logs no secret', async function () {
      await assertNoSecretsLogged(scenario);
    });
  });
});
