import assert from 'node:assert/strict';

import type { ContainerInstance } from '../../../src/api/index.js';
import { useInstanceEnvironment } from './environment.js';
import { assertNoSecretsLogged } from './logs.js';
import { condition, startScenario, type Scenario } from './scenario.js';

describe('ContainerInstance with the per-instance server observer', function () {
  this.timeout(300_000);
  let scenario: Scenario;
  let first: ContainerInstance;

  before(async function () {
    this.timeout(900_000);
    scenario = await startScenario(await useInstanceEnvironment(), 'cinst-per', {
      operatorArgs: ['--server-observer', 'per-instance'],
    });
    await scenario.create('first', {});
    await scenario.create('second', {});
    first = await scenario.waitForReady('first', 240_000);
    await scenario.waitForReady('second', 240_000);
  });

  after(async function () {
    this.timeout(120_000);
    await scenario?.cleanup();
  });

  it('gives each instance one server', async function () {
    assert.equal((await scenario.servers(first)).length, 1);
  });

  it('notices a server deleted out of band', async function () {
    await scenario.env.cloud.client.compute.deleteServer(first.status!.serverID!);
    const replaced = await scenario.waitFor(
      'first',
      'Ready on a replacement server',
      (instance) =>
        condition(instance, 'Ready')?.status === 'True' &&
        instance.status?.serverID !== first.status?.serverID,
    );
    assert.equal((await scenario.servers(replaced)).length, 1);
  });

  it('deletes the server with the instance', async function () {
    const second = (await scenario.get('second'))!;
    await scenario.delete('second');
    await scenario.waitForGone('second');
    assert.deepEqual(await scenario.servers(second), []);
  });

  describe('after the run', function () {
    it('logs no secret', async function () {
      await assertNoSecretsLogged(scenario);
    });
  });
});
