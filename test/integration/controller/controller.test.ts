import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';

import { Controller } from '../../../src/controller/controller.js';
import {
  done,
  requeueAfter,
  terminalError,
  transientError,
  type ReconcileResult,
} from '../../../src/controller/reconciler.js';
import type { Informer } from '../../../src/kube/informer.js';
import { customResourceInformer } from '../../../src/kube/informers.js';
import { StatusWriter } from '../../../src/kube/status-writer.js';
import { OperatorMetrics } from '../../../src/observability/metrics.js';
import { useControlPlane, type ControlPlane } from '../../support/controlplane.js';
import { captureLogger, counterValue } from '../../support/kube.js';
import { waitFor } from '../../support/process.js';
import {
  createTestNamespace,
  installTestCrd,
  testObjectManifest,
  testResourceType,
  type TestObject,
} from '../../support/test-crd.js';

describe('controller loop', function () {
  this.timeout(120_000);

  let controlPlane: ControlPlane;
  const widgets = testResourceType('widgets');
  const running: { controller: Controller<TestObject>; informer: Informer<TestObject> }[] = [];

  before(async function () {
    this.timeout(3_600_000);
    controlPlane = await useControlPlane();
    await installTestCrd(controlPlane, widgets);
  });

  afterEach(async () => {
    for (const { controller, informer } of running.splice(0)) {
      await controller.shutdown(5000);
      await informer.stop();
    }
  });

  function makeController(
    namespace: string,
    reconcile: (key: string, object: TestObject | undefined) => Promise<ReconcileResult>,
  ) {
    const metrics = new OperatorMetrics({ processMetrics: false });
    const { logger } = captureLogger();
    const informer = customResourceInformer<TestObject>(controlPlane.kubeConfig(), widgets, {
      namespace,
      logger,
      metrics,
    });
    const controller = new Controller<TestObject>({
      name: 'widget',
      informer,
      reconciler: reconcile,
      concurrency: 2,
      backoff: { baseMs: 100, maxMs: 1000 },
      terminalRetryMs: 60_000,
      logger,
      metrics,
    });
    running.push({ controller, informer });
    informer.start();
    return { controller, informer, metrics };
  }

  const apply = (namespace: string, name: string, spec: Record<string, unknown> = {}) =>
    controlPlane.kubectl(['apply', '-f', '-'], {
      input: testObjectManifest(widgets, namespace, name, spec),
    });

  it('reconciles existing and new objects', async () => {
    const namespace = await createTestNamespace(controlPlane, 'ctl-basic');
    await apply(namespace, 'existing');
    const writer = new StatusWriter(controlPlane.kubeConfig(), widgets);
    const { controller } = makeController(namespace, async (_key, object) => {
      if (object) await writer.write(object, { observedGeneration: object.metadata?.generation });
      return done();
    });
    await controller.start();
    await apply(namespace, 'new');

    const api = controlPlane.kubectl.bind(controlPlane);
    await waitFor(
      'both objects have status',
      async () => {
        const { stdout } = await api([
          'get',
          `${widgets.plural}.${widgets.group}`,
          '-n',
          namespace,
          '-o',
          'jsonpath={.items[*].status.observedGeneration}',
        ]);
        return stdout.trim() === '1 1';
      },
      30_000,
    );
  });

  it('ignores events before start', async () => {
    const namespace = await createTestNamespace(controlPlane, 'ctl-standby');
    const keys: string[] = [];
    const { controller, informer } = makeController(namespace, async (key) => {
      keys.push(key);
      return done();
    });
    await informer.waitForSync(30_000);
    await apply(namespace, 'a');
    await waitFor(
      'informer sees a',
      async () => informer.get('a', namespace) !== undefined,
      30_000,
    );
    await sleep(300);
    assert.equal(keys.length, 0, 'a standby does not reconcile');

    await controller.start();
    await waitFor('a reconciled after start', async () => keys.includes(`${namespace}/a`), 30_000);
  });

  it('retries transient errors with backoff', async () => {
    const namespace = await createTestNamespace(controlPlane, 'ctl-retry');
    await apply(namespace, 'flaky');
    let calls = 0;
    const { controller, metrics } = makeController(namespace, async () => {
      calls += 1;
      return calls <= 2 ? transientError(new Error('HTTP 503 from compute')) : done();
    });
    await controller.start();

    await waitFor(
      'third call succeeds',
      async () => (await counterValue(metrics.reconcileTotal, { result: 'success' })) === 1,
      30_000,
    );
    assert.equal(await counterValue(metrics.reconcileTotal, { result: 'error' }), 2);
    assert.equal(await counterValue(metrics.queueRetries, { name: 'widget' }), 2);
  });

  it('waits after a terminal error', async () => {
    const namespace = await createTestNamespace(controlPlane, 'ctl-terminal');
    await apply(namespace, 'bad', { flavor: 'm1.huge' });
    const seen: unknown[] = [];
    const { controller } = makeController(namespace, async (_key, object) => {
      seen.push(object?.spec?.flavor);
      return object?.spec?.flavor === 'm1.huge'
        ? terminalError(new Error('flavor "m1.huge" not found'))
        : done();
    });
    await controller.start();
    await waitFor('first reconcile', async () => seen.length === 1, 30_000);

    await sleep(2000);
    assert.equal(seen.length, 1, 'no hot loop on invalid configuration');

    await apply(namespace, 'bad', { flavor: 'm1.small' });
    await waitFor('a spec change retries at once', async () => seen.includes('m1.small'), 30_000);
  });

  it('requeues after the requested delay', async () => {
    const namespace = await createTestNamespace(controlPlane, 'ctl-requeue');
    await apply(namespace, 'building');
    let calls = 0;
    const { controller } = makeController(namespace, async () => {
      calls += 1;
      return calls < 3 ? requeueAfter(200) : done();
    });
    await controller.start();

    await waitFor('three reconciles', async () => calls === 3, 30_000);
    await sleep(500);
    assert.equal(calls, 3);
  });

  it('reconciles a deleted object with undefined', async () => {
    const namespace = await createTestNamespace(controlPlane, 'ctl-delete');
    await apply(namespace, 'doomed');
    const calls: { key: string; present: boolean }[] = [];
    const { controller } = makeController(namespace, async (key, object) => {
      calls.push({ key, present: object !== undefined });
      return done();
    });
    await controller.start();
    await waitFor('first reconcile', async () => calls.length === 1, 30_000);

    await controlPlane.kubectl([
      'delete',
      `${widgets.plural}.${widgets.group}`,
      'doomed',
      '-n',
      namespace,
    ]);

    await waitFor(
      'reconcile after delete',
      async () => calls.some((call) => !call.present),
      30_000,
    );
    assert.equal(calls.at(-1)?.key, `${namespace}/doomed`);
  });

  it('shutdown waits for a running reconcile', async () => {
    const namespace = await createTestNamespace(controlPlane, 'ctl-shutdown');
    await apply(namespace, 'slow');
    let finished = false;
    let started = false;
    const { controller } = makeController(namespace, async () => {
      started = true;
      await sleep(1000);
      finished = true;
      return done();
    });
    await controller.start();
    await waitFor('reconcile started', async () => started, 30_000);

    const result = await controller.shutdown(10_000);

    assert.equal(result.drained, true);
    assert.equal(finished, true);
  });
});
