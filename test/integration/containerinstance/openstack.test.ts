import assert from 'node:assert/strict';

import { FINALIZER, type ContainerInstance } from '../../../src/api/index.js';
import { useOpenStackEnvironment } from './environment.js';
import { assertNoSecretsLogged } from './logs.js';
import { condition, startScenario, type Scenario } from './scenario.js';

describe('ContainerInstance on the real test cloud @openstack', function () {
  this.timeout(300_000);
  let scenario: Scenario;

  before(async function () {
    const env = await useOpenStackEnvironment(this);
    this.timeout(900_000);
    scenario = await startScenario(env, 'cinst-os', {
      operatorArgs: ['--no-recreate-errored-servers'],
    });
  });

  after(async function () {
    this.timeout(120_000);
    await scenario?.cleanup();
  });

  describe('created', function () {
    let instance: ContainerInstance;

    before(async function () {
      await scenario.create('web', { env: [{ name: 'GREETING', value: 'hello' }] });
      instance = await scenario.waitForReady('web', 240_000);
    });

    it('reaches phase Running', function () {
      assert.equal(instance.status?.phase, 'Running');
    });

    it('records server, image and addresses', function () {
      assert.match(instance.status?.serverID ?? '', /^[0-9a-f-]{36}$/);
      assert.match(instance.status?.image?.digest ?? '', /^sha256:[0-9a-f]{64}$/);
      assert.ok((instance.status?.addresses ?? []).length > 0, JSON.stringify(instance.status));
    });

    it('sets every condition', function () {
      const statuses = Object.fromEntries(
        (instance.status?.conditions ?? []).map((entry) => [entry.type, entry.status]),
      );
      assert.deepEqual(statuses, {
        Ready: 'True',
        Reconciling: 'False',
        Stalled: 'False',
        ImagePublished: 'True',
        ServerReady: 'True',
      });
    });

    it('creates exactly one tagged server with the env as metadata', async function () {
      const servers = await scenario.servers(instance);
      assert.deepEqual(
        servers.map((server) => server.id),
        [instance.status?.serverID],
      );
      assert.deepEqual(servers[0]?.metadata, { GREETING: 'hello' });
    });

    describe('then deleted', function () {
      before(async function () {
        assert.ok(instance.metadata.finalizers?.includes(FINALIZER));
        await scenario.delete('web');
        await scenario.waitForGone('web', 120_000);
      });

      it('deletes the server', async function () {
        assert.deepEqual(await scenario.servers(instance), []);
      });
    });
  });

  describe('unknown flavor', function () {
    it('stalls naming the flavor', async function () {
      await scenario.create('huge', { flavor: 'no-such-flavor' });
      const instance = await scenario.waitFor(
        'huge',
        'Stalled=True',
        (candidate) => condition(candidate, 'Stalled')?.status === 'True',
        120_000,
      );
      assert.match(
        condition(instance, 'Stalled')?.message ?? '',
        /flavor "no-such-flavor" not found/,
      );
    });
  });

  describe('server that cannot be scheduled', function () {
    let instance: ContainerInstance;

    before(async function () {
      await scenario.create('unschedulable', { flavor: scenario.env.cloud.unschedulableFlavor! });
      instance = await scenario.waitFor(
        'unschedulable',
        'phase Failed',
        (candidate) => candidate.status?.phase === 'Failed' && candidate.status.fault !== undefined,
        180_000,
      );
    });

    it('copies the Nova fault', function () {
      assert.match(instance.status?.fault?.message ?? '', /No valid host was found/);
    });

    it('sets Ready to False', function () {
      assert.equal(condition(instance, 'Ready')?.status, 'False');
    });
  });

  describe('after the run', function () {
    it('logs no secret', async function () {
      await assertNoSecretsLogged(scenario);
    });
  });
});
