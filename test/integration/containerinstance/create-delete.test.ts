import assert from 'node:assert/strict';

import {
  FINALIZER,
  MANAGED_TAG,
  instanceTag,
  type ContainerInstance,
} from '../../../src/api/index.js';
import { httpGet } from '../../support/operator-process.js';
import { pushUniqueImage, useInstanceEnvironment } from './environment.js';
import { startScenario, type Scenario } from './scenario.js';
import { assertNoSecretsLogged } from './logs.js';

describe('ContainerInstance create and delete', function () {
  this.timeout(300_000);
  let scenario: Scenario;
  let instance: ContainerInstance;

  before(async function () {
    this.timeout(900_000);
    const env = await useInstanceEnvironment();
    // An image of its own, so this scenario uploads it instead of reusing
    // what an earlier scenario published.
    const image = await pushUniqueImage(env, 'create');
    scenario = await startScenario(env, 'cinst-create');
    await scenario.createSecret('app-secret', { token: 'secret-token-value-8f2e1c' });
    await scenario.create('web', {
      image,
      env: [
        { name: 'GREETING', value: 'hello' },
        { name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'app-secret', key: 'token' } } },
      ],
      tags: ['team-web'],
    });
    instance = await scenario.waitForReady('web', 240_000);
  });

  after(async function () {
    this.timeout(120_000);
    await scenario?.cleanup();
  });

  it('reaches phase Running', function () {
    assert.equal(instance.status?.phase, 'Running');
  });

  it('records the observed generation', function () {
    assert.equal(instance.status?.observedGeneration, instance.metadata.generation);
  });

  it('records the server ID', function () {
    assert.match(instance.status?.serverID ?? '', /^[0-9a-f-]{36}$/);
  });

  it('records the Glance image and its digest', function () {
    assert.match(instance.status?.image?.glanceID ?? '', /^[0-9a-f-]{36}$/);
    assert.match(instance.status?.image?.digest ?? '', /^sha256:[0-9a-f]{64}$/);
  });

  it('records the server addresses', function () {
    assert.ok((instance.status?.addresses ?? []).length > 0, JSON.stringify(instance.status));
    assert.equal(instance.status?.addresses?.[0]?.network, scenario.env.cloud.networkName);
  });

  it('records power state Running', function () {
    assert.equal(instance.status?.powerState, 'Running');
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

  it('stamps conditions with the generation', function () {
    for (const entry of instance.status?.conditions ?? []) {
      assert.equal(entry.observedGeneration, instance.metadata.generation, entry.type);
    }
  });

  it('adds the finalizer', function () {
    assert.ok(instance.metadata.finalizers?.includes(FINALIZER));
  });

  it('creates exactly one tagged server', async function () {
    const servers = await scenario.servers(instance);
    assert.deepEqual(
      servers.map((server) => server.id),
      [instance.status?.serverID],
    );
  });

  it('tags the server with owner and user tags', async function () {
    const [server] = await scenario.servers(instance);
    assert.ok(server!.tags.includes(MANAGED_TAG));
    assert.ok(server!.tags.includes(instanceTag(instance.metadata.uid!)));
    assert.ok(server!.tags.includes('team-web'));
  });

  it('passes env and Secret values into the container', async function () {
    const env = await scenario.containerEnv(instance.status!.serverID!);
    assert.equal(env.GREETING, 'hello');
    assert.equal(env.TOKEN, 'secret-token-value-8f2e1c');
  });

  it('records Created and Ready Events', async function () {
    const reasons = (await scenario.events('web')).map((event) => event.reason);
    assert.ok(reasons.includes('Created'), reasons.join(', '));
    assert.ok(reasons.includes('Ready'), reasons.join(', '));
  });

  it('exports image and OpenStack metrics', async function () {
    const { body } = await httpGet(`${scenario.operators[0]!.url}/metrics`);
    const value = (prefix: string) =>
      body
        .split('\n')
        .filter((line) => line.startsWith(prefix))
        .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
    assert.ok(value('novadocker_image_upload_bytes_total') > 0, 'no uploaded bytes counted');
    assert.ok(value('novadocker_image_publishes_total{') > 0, 'no publish counted');
    assert.ok(
      value('novadocker_openstack_requests_total{service="compute",method="POST",code="202"}') > 0,
      'no server create counted',
    );
  });

  it('stays quiet once Ready', async function () {
    const before = (await scenario.get('web'))!.metadata.resourceVersion;
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const after = (await scenario.get('web'))!.metadata.resourceVersion;
    assert.equal(after, before, 'the status was written again although nothing changed');
  });

  describe('deleted', function () {
    let serverID: string;

    before(async function () {
      serverID = instance.status!.serverID!;
      await scenario.delete('web');
      await scenario.waitForGone('web');
    });

    it('deletes the server', async function () {
      const servers = await scenario.env.cloud.client.compute.listServers({
        tags: [instanceTag(instance.metadata.uid!)],
      });
      assert.deepEqual(
        servers.filter((server) => server.id === serverID && server.status !== 'DELETED'),
        [],
      );
    });

    it('removes the container', async function () {
      await assert.rejects(
        scenario.env.docker.docker.getContainer(`nova-${serverID}`).inspect(),
        /no such container/i,
      );
    });
  });

  describe('after the run', function () {
    it('logs no secret', async function () {
      await assertNoSecretsLogged(scenario, ['secret-token-value-8f2e1c']);
    });
  });
});
