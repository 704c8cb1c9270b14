import assert from 'node:assert/strict';

import type { V1Secret } from '@kubernetes/client-node';

import { Informer, type InformerEvent } from '../../../src/kube/informer.js';
import { customResourceInformer, secretInformer } from '../../../src/kube/informers.js';
import type { CustomResourceType } from '../../../src/kube/resource.js';
import { OperatorMetrics } from '../../../src/observability/metrics.js';
import { useControlPlane, type ControlPlane } from '../../support/controlplane.js';
import { captureLogger, counterValue, portOf } from '../../support/kube.js';
import { waitFor } from '../../support/process.js';
import { kubeConfigThrough, startTcpProxy, type TcpProxy } from '../../support/tcp-proxy.js';
import {
  createTestNamespace,
  installTestCrd,
  testObjectManifest,
  testResourceType,
  type TestObject,
} from '../../support/test-crd.js';

describe('informer against kube-apiserver', function () {
  this.timeout(120_000);

  let controlPlane: ControlPlane;
  let proxy: TcpProxy;
  const widgets = testResourceType('widgets');
  const informers: Informer<never>[] = [];

  before(async function () {
    this.timeout(3_600_000);
    controlPlane = await useControlPlane();
    await installTestCrd(controlPlane, widgets);
    proxy = await startTcpProxy(portOf(controlPlane.server));
  });

  afterEach(async () => {
    proxy.resume();
    for (const informer of informers.splice(0)) await informer.stop();
  });

  /** Starts an informer over the test resource, reached through the relay, recording its events. */
  function startInformer(
    type: CustomResourceType,
    namespace: string,
    extra: { silenceTimeoutMs?: number; labelSelector?: string } = {},
  ) {
    const metrics = new OperatorMetrics({ processMetrics: false });
    const { logger } = captureLogger();
    const informer = customResourceInformer<TestObject>(
      kubeConfigThrough(controlPlane.kubeConfig(), proxy.port),
      type,
      {
        namespace,
        logger,
        metrics,
        restartBackoff: { baseMs: 200, maxMs: 1000 },
        ...extra,
      },
    );
    const events: InformerEvent<TestObject>[] = [];
    informer.on((event) => events.push(event));
    informer.start();
    informers.push(informer as unknown as Informer<never>);
    return { informer, events, metrics };
  }

  const apply = (
    type: CustomResourceType,
    namespace: string,
    name: string,
    spec: Record<string, unknown>,
  ) =>
    controlPlane.kubectl(['apply', '-f', '-'], {
      input: testObjectManifest(type, namespace, name, spec),
    });

  it('resumes after dropped connection', async () => {
    const namespace = await createTestNamespace(controlPlane, 'inf-drop');
    await apply(widgets, namespace, 'a', { value: 1 });
    const { informer, events, metrics } = startInformer(widgets, namespace);
    await informer.waitForSync(30_000);
    assert.equal(informer.get('a', namespace)?.spec?.value, 1);

    proxy.refuse();
    await apply(widgets, namespace, 'a', { value: 2 });
    await apply(widgets, namespace, 'b', { value: 1 });
    await waitFor(
      'a failed reconnect',
      async () => (await counterValue(metrics.watchRestarts, { reason: 'error' })) >= 1,
      30_000,
    );
    proxy.resume();

    await waitFor(
      'a and b up to date',
      async () =>
        informer.get('a', namespace)?.spec?.value === 2 &&
        informer.get('b', namespace) !== undefined,
      30_000,
    );
    assert.ok(
      events.some((event) => event.type === 'update' && event.object.metadata?.name === 'a'),
    );
    assert.ok(events.some((event) => event.type === 'add' && event.object.metadata?.name === 'b'));
    assert.equal(
      await counterValue(metrics.watchRestarts, { reason: 'relist' }),
      0,
      'resumed from its resourceVersion without a relist',
    );
  });

  it('relists after 410 Gone', async () => {
    // A CRD spec change makes kube-apiserver rebuild the resource's watch
    // cache at the current resourceVersion, so a watch resumed from an older
    // one gets 410 Gone ("too old resource version"), as after an upgrade.
    const gadgets = testResourceType('gadgets');
    await installTestCrd(controlPlane, gadgets);
    const namespace = await createTestNamespace(controlPlane, 'inf-gone');
    await apply(gadgets, namespace, 'a', { value: 1 });
    await apply(gadgets, namespace, 'b', { value: 1 });
    const { informer, events, metrics } = startInformer(gadgets, namespace);
    await informer.waitForSync(30_000);

    proxy.refuse();
    await apply(gadgets, namespace, 'a', { value: 2 });
    await controlPlane.kubectl([
      'delete',
      `${gadgets.plural}.${gadgets.group}`,
      'b',
      '-n',
      namespace,
    ]);
    await apply(gadgets, namespace, 'c', { value: 1 });
    await installTestCrd(controlPlane, gadgets, `column${Date.now()}`);
    proxy.resume();

    await waitFor(
      'cache matches the API server',
      async () =>
        informer.get('a', namespace)?.spec?.value === 2 &&
        informer.get('b', namespace) === undefined &&
        informer.get('c', namespace) !== undefined,
      60_000,
    );
    assert.ok(
      (await counterValue(metrics.watchRestarts, { reason: 'relist' })) >= 1,
      'the informer relisted',
    );
    assert.ok(
      events.some((event) => event.type === 'delete' && event.object.metadata?.name === 'b'),
      'delete of b delivered',
    );
    assert.ok(
      events.some((event) => event.type === 'add' && event.object.metadata?.name === 'c'),
      'add of c delivered',
    );
    await waitFor(
      'replay of a',
      async () =>
        events.some((event) => event.type === 'resync' && event.object.metadata?.name === 'a'),
      5000,
    );
  });

  it('resumes a silent watch', async () => {
    const namespace = await createTestNamespace(controlPlane, 'inf-silent');
    await apply(widgets, namespace, 'a', { value: 1 });
    const { informer, metrics } = startInformer(widgets, namespace, { silenceTimeoutMs: 2000 });
    await informer.waitForSync(30_000);

    proxy.freezeConnections();
    await apply(widgets, namespace, 'a', { value: 2 });

    await waitFor(
      'update seen after the silent watch was replaced',
      async () => informer.get('a', namespace)?.spec?.value === 2,
      30_000,
    );
    // Under load the update can arrive through the replacement watch before
    // the restart is counted, so the count gets a moment of its own.
    await waitFor(
      'silent watch restart counted',
      async () => (await counterValue(metrics.watchRestarts, { reason: 'silent' })) >= 1,
      10_000,
    ).catch(() => undefined);
    assert.ok(
      (await counterValue(metrics.watchRestarts, { reason: 'silent' })) >= 1,
      'the silent watch was counted',
    );
  });

  it('filters by label selector', async () => {
    const namespace = await createTestNamespace(controlPlane, 'inf-label');
    const labeled = JSON.parse(testObjectManifest(widgets, namespace, 'mine', {}));
    labeled.metadata.labels = { shard: 'a' };
    await controlPlane.kubectl(['apply', '-f', '-'], { input: JSON.stringify(labeled) });
    await apply(widgets, namespace, 'other', {});
    const { informer } = startInformer(widgets, namespace, { labelSelector: 'shard=a' });
    await informer.waitForSync(30_000);

    assert.deepEqual(
      informer.list().map((object) => object.metadata?.name),
      ['mine'],
    );
  });

  it('drops managedFields from cached objects', async () => {
    const namespace = await createTestNamespace(controlPlane, 'inf-fields');
    await apply(widgets, namespace, 'a', {});
    const { informer } = startInformer(widgets, namespace);
    await informer.waitForSync(30_000);

    assert.equal(informer.get('a', namespace)?.metadata?.managedFields, undefined);
  });

  it('caches secrets as plain JSON', async () => {
    const namespace = await createTestNamespace(controlPlane, 'inf-secret');
    await controlPlane.kubectl([
      'create',
      'secret',
      'generic',
      'creds',
      '-n',
      namespace,
      '--from-literal=password=s3cr3t',
    ]);
    const { logger } = captureLogger();
    const informer = secretInformer(controlPlane.kubeConfig(), { namespace, logger });
    informers.push(informer as unknown as Informer<never>);
    informer.start();
    await informer.waitForSync(30_000);

    const secret = informer.get('creds', namespace) as V1Secret;
    assert.equal(Buffer.from(secret.data?.password ?? '', 'base64').toString(), 's3cr3t');
    assert.equal(
      typeof secret.metadata?.creationTimestamp,
      'string',
      'listed objects have the same shape as watched ones',
    );
  });
});
