import assert from 'node:assert/strict';

import type { ContainerInstance } from '../../../src/api/index.js';
import { devCloudAdmin } from '../../support/devcloud.js';
import { httpGet } from '../../support/operator-process.js';
import { useInstanceEnvironment } from './environment.js';
import { assertNoSecretsLogged } from './logs.js';
import { condition, startScenario, type Scenario } from './scenario.js';

interface Stats {
  requests: Array<{ service: string; method: string; route: string; count: number }>;
}

/** Sums the dev cloud's request counts of the routes matching a pattern. */
function countRequests(stats: Stats, pattern: RegExp): number {
  return stats.requests
    .filter((row) => pattern.test(`${row.method} ${row.route}`))
    .reduce((sum, row) => sum + row.count, 0);
}

/** Reads novadocker_reconcile_total of the ContainerInstance controller, all results summed. */
async function reconcileCount(url: string): Promise<number> {
  const { body } = await httpGet(`${url}/metrics`);
  return body
    .split('\n')
    .filter(
      (line) =>
        line.startsWith('novadocker_reconcile_total{') &&
        line.includes('controller="containerinstance"'),
    )
    .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
}

describe('ContainerInstance with invalid configuration', function () {
  this.timeout(300_000);
  let scenario: Scenario;
  const stalled = new Map<string, ContainerInstance>();

  const waitForStalled = async (name: string) => {
    const instance = await scenario.waitFor(
      name,
      'Stalled=True',
      (candidate) => condition(candidate, 'Stalled')?.status === 'True',
      120_000,
    );
    stalled.set(name, instance);
    return instance;
  };

  before(async function () {
    this.timeout(900_000);
    scenario = await startScenario(await useInstanceEnvironment(), 'cinst-stalled');
    await scenario.create('bad-flavor', { flavor: 'm1.huge' });
    await scenario.create('bad-network', { networks: [{ name: 'no-such-net' }] });
    await scenario.create('bad-cloud', {
      cloud: { secretName: 'no-such-secret', cloudName: 'devcloud' },
    });
    await scenario.create('bad-env', {
      env: [
        {
          name: 'TOKEN',
          valueFrom: { secretKeyRef: { name: 'no-such-env-secret', key: 'token' } },
        },
      ],
    });
    for (const name of ['bad-flavor', 'bad-network', 'bad-cloud', 'bad-env'])
      await waitForStalled(name);
  });

  after(async function () {
    this.timeout(120_000);
    await scenario?.cleanup();
  });

  it('names the unknown flavor and the existing ones', function () {
    const message = condition(stalled.get('bad-flavor')!, 'Stalled')?.message ?? '';
    assert.match(message, /flavor "m1\.huge" not found in cloud "devcloud"/);
    assert.match(message, /m1\.tiny/);
  });

  it('uses reason FlavorNotFound', function () {
    assert.equal(condition(stalled.get('bad-flavor')!, 'Stalled')?.reason, 'FlavorNotFound');
  });

  it('names the unknown network and the existing ones', function () {
    const message = condition(stalled.get('bad-network')!, 'Stalled')?.message ?? '';
    assert.match(message, /network "no-such-net" not found/);
    assert.match(message, new RegExp(scenario.env.cloud.networkName));
  });

  it('names the missing cloud Secret', function () {
    const entry = condition(stalled.get('bad-cloud')!, 'Stalled');
    assert.equal(entry?.reason, 'SecretNotFound');
    assert.match(entry?.message ?? '', new RegExp(`Secret ${scenario.namespace}/no-such-secret`));
  });

  it('names the missing env Secret', function () {
    const entry = condition(stalled.get('bad-env')!, 'Stalled');
    assert.equal(entry?.reason, 'SecretNotFound');
    assert.match(entry?.message ?? '', /env TOKEN: Secret .*\/no-such-env-secret not found/);
  });

  it('sets Ready and Reconciling to False', function () {
    for (const instance of stalled.values()) {
      assert.equal(condition(instance, 'Ready')?.status, 'False', instance.metadata.name);
      assert.equal(condition(instance, 'Reconciling')?.status, 'False', instance.metadata.name);
    }
  });

  it('creates no server', async function () {
    for (const instance of stalled.values()) {
      assert.deepEqual(await scenario.servers(instance), [], instance.metadata.name);
    }
  });

  it('records a Warning Event with the reason', async function () {
    const event = await scenario.waitForEvent('bad-flavor', 'FlavorNotFound');
    assert.equal(event.type, 'Warning');
  });

  describe('while stalled', function () {
    let lookupsBefore: number;
    let lookupsAfter: number;
    let reconcilesBefore: number;
    let reconcilesAfter: number;

    before(async function () {
      const lookups = /^GET \/(v2\.1\/)?flavors|^GET \/v2\.0\/networks/;
      lookupsBefore = countRequests(
        await devCloudAdmin<Stats>(scenario.env.devcloud!, 'GET', '/stats'),
        lookups,
      );
      reconcilesBefore = await reconcileCount(scenario.operators[0]!.url);
      await new Promise((resolve) => setTimeout(resolve, 10_000));
      lookupsAfter = countRequests(
        await devCloudAdmin<Stats>(scenario.env.devcloud!, 'GET', '/stats'),
        lookups,
      );
      reconcilesAfter = await reconcileCount(scenario.operators[0]!.url);
    });

    it('counts the first lookups', function () {
      assert.ok(
        lookupsBefore > 0,
        'no flavor or network lookup was counted, so the next check means nothing',
      );
    });

    it('repeats no flavor or network lookup', function () {
      assert.equal(lookupsAfter - lookupsBefore, 0);
    });

    it('does not reconcile in a loop', function () {
      assert.ok(
        reconcilesAfter - reconcilesBefore <= 2,
        `${reconcilesAfter - reconcilesBefore} reconciles in 10 s`,
      );
    });
  });

  describe('fixed by a spec change', function () {
    it('becomes Ready', async function () {
      await scenario.patchSpec('bad-flavor', { flavor: 'm1.tiny' });
      const instance = await scenario.waitForReady('bad-flavor', 120_000);
      assert.equal(condition(instance, 'Stalled')?.status, 'False');
    });
  });

  describe('fixed by creating the Secret', function () {
    it('becomes Ready', async function () {
      await scenario.createSecret('no-such-env-secret', { token: 'late-token-5be1' });
      const instance = await scenario.waitForReady('bad-env', 120_000);
      assert.equal(condition(instance, 'Stalled')?.status, 'False');
    });
  });

  describe('after the run', function () {
    it('logs no secret', async function () {
      await assertNoSecretsLogged(scenario, ['late-token-5be1']);
    });
  });
});
