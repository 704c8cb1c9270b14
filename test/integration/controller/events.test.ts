import assert from 'node:assert/strict';

import { EventsV1Api, type EventsV1Event } from '@kubernetes/client-node';

import { EventRecorder } from '../../../src/kube/event-recorder.js';
import { OperatorMetrics } from '../../../src/observability/metrics.js';
import { useControlPlane, type ControlPlane } from '../../support/controlplane.js';
import { captureLogger, counterValue } from '../../support/kube.js';
import {
  createTestNamespace,
  installTestCrd,
  testObjectManifest,
  testResourceType,
  type TestObject,
} from '../../support/test-crd.js';

describe('event recorder', function () {
  this.timeout(120_000);

  let controlPlane: ControlPlane;
  let namespace: string;
  const widgets = testResourceType('widgets');

  before(async function () {
    this.timeout(3_600_000);
    controlPlane = await useControlPlane();
    await installTestCrd(controlPlane, widgets);
    namespace = await createTestNamespace(controlPlane, 'events');
  });

  async function createWidget(name: string): Promise<TestObject> {
    const result = await controlPlane.kubectl(['apply', '-o', 'json', '-f', '-'], {
      input: testObjectManifest(widgets, namespace, name),
    });
    return JSON.parse(result.stdout) as TestObject;
  }

  async function eventsAbout(name: string): Promise<EventsV1Event[]> {
    const api = controlPlane.kubeConfig().makeApiClient(EventsV1Api);
    const list = await api.listNamespacedEvent({
      namespace,
      fieldSelector: `regarding.name=${name}`,
    });
    return list.items;
  }

  function makeRecorder(
    metrics?: OperatorMetrics,
    extra: { burst?: number; seriesFlushMs?: number } = {},
  ) {
    const { logger } = captureLogger();
    return new EventRecorder({
      kubeConfig: controlPlane.kubeConfig(),
      reportingController: 'novadocker.io/operator',
      reportingInstance: 'test-instance',
      logger,
      metrics,
      ...extra,
    });
  }

  it('creates an Event about the object', async () => {
    const widget = await createWidget('created');
    const recorder = makeRecorder();

    recorder.record(widget, 'Normal', 'ServerCreated', 'Create', 'created server 6f1c');
    await recorder.flush();

    const [event, ...rest] = await eventsAbout('created');
    assert.equal(rest.length, 0);
    assert.equal(event?.reason, 'ServerCreated');
    assert.equal(event?.note, 'created server 6f1c');
    assert.equal(event?.type, 'Normal');
    assert.equal(event?.action, 'Create');
    assert.equal(event?.regarding?.uid, widget.metadata?.uid);
    assert.equal(event?.reportingController, 'novadocker.io/operator');
  });

  it('aggregates a repeated Event into a series', async () => {
    const widget = await createWidget('flapping');
    const recorder = makeRecorder(undefined, { seriesFlushMs: 100 });

    for (let i = 0; i < 50; i += 1)
      recorder.record(
        widget,
        'Warning',
        'ServerError',
        'Observe',
        'server is in ERROR: No valid host was found',
      );
    await recorder.flush();

    const events = await eventsAbout('flapping');
    assert.equal(events.length, 1, 'one Event object for 50 repeats');
    assert.equal(events[0]?.series?.count, 50);
  });

  it('rate-limits new Events per object', async () => {
    const widget = await createWidget('noisy');
    const metrics = new OperatorMetrics({ processMetrics: false });
    const recorder = makeRecorder(metrics, { burst: 5 });

    for (let i = 0; i < 20; i += 1)
      recorder.record(widget, 'Warning', 'RequestFailed', 'Observe', `request req-${i} failed`);
    await recorder.flush();

    assert.equal((await eventsAbout('noisy')).length, 5);
    assert.equal(await counterValue(metrics.eventsDropped, { reason: 'rate_limited' }), 15);
  });

  it('keeps Events of objects apart', async () => {
    const first = await createWidget('first');
    const second = await createWidget('second');
    const recorder = makeRecorder();

    recorder.record(first, 'Warning', 'Stalled', 'Reconcile', 'flavor "m1.huge" not found');
    recorder.record(second, 'Warning', 'Stalled', 'Reconcile', 'flavor "m1.huge" not found');
    await recorder.flush();

    assert.equal((await eventsAbout('first')).length, 1);
    assert.equal((await eventsAbout('second')).length, 1);
  });

  it('cuts a long note to 1024 bytes', async () => {
    const widget = await createWidget('long');
    const recorder = makeRecorder();

    recorder.record(widget, 'Warning', 'Fault', 'Observe', 'é'.repeat(2000));
    await recorder.flush();

    const [event] = await eventsAbout('long');
    assert.ok(Buffer.byteLength(event?.note ?? '') <= 1024, 'note fits the API limit');
    assert.ok(event?.note?.endsWith('...'));
  });

  it('shows in kubectl describe', async () => {
    const widget = await createWidget('described');
    const recorder = makeRecorder();

    recorder.record(
      widget,
      'Warning',
      'ServerFault',
      'Observe',
      'fault 500: No valid host was found',
    );
    recorder.record(
      widget,
      'Warning',
      'ServerFault',
      'Observe',
      'fault 500: No valid host was found',
    );
    await recorder.flush();

    const { stdout } = await controlPlane.kubectl([
      'describe',
      `${widgets.plural}.${widgets.group}`,
      'described',
      '-n',
      namespace,
    ]);
    assert.match(stdout, /Warning\s+ServerFault\s+.*fault 500: No valid host was found/);
    assert.match(stdout, /x2 over/);
  });
});
