import assert from 'node:assert/strict';

import type { OperatorProcess } from '../../support/operator-process.js';
import { waitFor } from '../../support/process.js';
import { useInstanceEnvironment } from './environment.js';
import { assertNoSecretsLogged } from './logs.js';
import { startScenario, type Scenario } from './scenario.js';

/** Returns whether the operator logged that it became the leader. */
async function leads(operator: OperatorProcess): Promise<boolean> {
  return (await operator.logLines()).some((line) => line.msg === 'became leader');
}

/** Returns the log lines of reconcile steps that changed something (Events the operator recorded). */
async function actions(operator: OperatorProcess): Promise<Record<string, unknown>[]> {
  return (await operator.logLines()).filter(
    (line) => typeof line.action === 'string' && typeof line.reason === 'string',
  );
}

describe('ContainerInstance operator with two replicas', function () {
  this.timeout(300_000);
  let scenario: Scenario;
  let leader: OperatorProcess;
  let standby: OperatorProcess;

  before(async function () {
    this.timeout(900_000);
    scenario = await startScenario(await useInstanceEnvironment(), 'cinst-leader', {
      noOperator: true,
      operatorArgs: ['--leader-elect'],
    });
    const first = await scenario.startOperator('replica-a', [
      '--leader-election-namespace',
      scenario.namespace,
    ]);
    await waitFor('replica-a to lead', () => leads(first), 30_000);
    const second = await scenario.startOperator('replica-b', [
      '--leader-election-namespace',
      scenario.namespace,
    ]);
    leader = first;
    standby = second;

    await scenario.create('one', {});
    await scenario.waitForReady('one', 240_000);
  });

  after(async function () {
    this.timeout(120_000);
    await scenario?.cleanup();
  });

  it('lets the leader create the server', async function () {
    const reasons = (await actions(leader)).map((line) => line.reason);
    assert.ok(reasons.includes('Created'), reasons.join(', '));
  });

  it('keeps the standby idle', async function () {
    assert.deepEqual(await actions(standby), []);
  });

  it('keeps the standby from leading', async function () {
    assert.equal(await leads(standby), false);
  });

  describe('leader killed', function () {
    let killedAt: number;

    before(async function () {
      killedAt = Date.now();
      process.kill(leader.server.pid, 'SIGKILL');
      await leader.exited;
    });

    it('fails over within 20 s', async function () {
      await waitFor(
        'the standby to lead',
        () => leads(standby),
        20_000 - (Date.now() - killedAt),
        100,
      );
    });

    it('reconciles on the new leader', async function () {
      await scenario.create('two', {});
      const instance = await scenario.waitForReady('two', 120_000);
      const created = (await actions(standby)).filter((line) => line.reason === 'Created');
      assert.ok(
        created.some((line) => line.name === 'two'),
        `the new leader logged no create of "two"; server ${instance.status?.serverID}`,
      );
    });
  });

  describe('after the run', function () {
    it('logs no secret', async function () {
      await assertNoSecretsLogged(scenario);
    });
  });
});
