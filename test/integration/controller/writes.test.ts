import assert from 'node:assert/strict';

import { CustomObjectsApi } from '@kubernetes/client-node';

import { FinalizerClient } from '../../../src/kube/finalizers.js';
import { StatusWriter } from '../../../src/kube/status-writer.js';
import { useControlPlane, type ControlPlane } from '../../support/controlplane.js';
import {
  createTestNamespace,
  installTestCrd,
  testObjectManifest,
  testResourceType,
  type TestObject,
} from '../../support/test-crd.js';

describe('status and finalizer writes', function () {
  this.timeout(120_000);

  let controlPlane: ControlPlane;
  let api: CustomObjectsApi;
  let namespace: string;
  const widgets = testResourceType('widgets');

  before(async function () {
    this.timeout(3_600_000);
    controlPlane = await useControlPlane();
    await installTestCrd(controlPlane, widgets);
    api = controlPlane.kubeConfig().makeApiClient(CustomObjectsApi);
    namespace = await createTestNamespace(controlPlane, 'writes');
  });

  async function create(name: string, spec: Record<string, unknown> = {}): Promise<TestObject> {
    await controlPlane.kubectl(['apply', '-f', '-'], {
      input: testObjectManifest(widgets, namespace, name, spec),
    });
    return read(name);
  }

  async function read(name: string): Promise<TestObject> {
    return (await api.getNamespacedCustomObject({ ...widgets, namespace, name })) as TestObject;
  }

  it('writes status as merge patch', async () => {
    const writer = new StatusWriter(controlPlane.kubeConfig(), widgets);
    const created = await create('merge');
    // Another writer owns status.external; a merge patch computed against the
    // status we read must leave it alone, where a full replace would drop it.
    await controlPlane.kubectl([
      'patch',
      `${widgets.plural}.${widgets.group}`,
      'merge',
      '-n',
      namespace,
      '--subresource=status',
      '--type=merge',
      '-p',
      '{"status":{"external":"kept"}}',
    ]);

    const result = await writer.write(created, {
      phase: 'Running',
      conditions: [{ type: 'Ready', status: 'True' }],
    });

    assert.equal(result.written, true);
    const stored = await read('merge');
    assert.equal(stored.status?.phase, 'Running');
    assert.equal(stored.status?.external, 'kept');
    assert.deepEqual(stored.status?.conditions, [{ type: 'Ready', status: 'True' }]);
  });

  it('skips unchanged status', async () => {
    const writer = new StatusWriter(controlPlane.kubeConfig(), widgets);
    const first = await writer.write(await create('same'), {
      phase: 'Running',
      observedGeneration: 1,
    });
    const before = first.object.metadata?.resourceVersion;

    const second = await writer.write(first.object, { observedGeneration: 1, phase: 'Running' });

    assert.equal(second.written, false);
    assert.equal(
      (await read('same')).metadata?.resourceVersion,
      before,
      'no write reached the API server',
    );
  });

  it('removes status members left out', async () => {
    const writer = new StatusWriter(controlPlane.kubeConfig(), widgets);
    const first = await writer.write(await create('remove'), {
      phase: 'Failed',
      fault: { code: 500, message: 'No valid host' },
    });

    await writer.write(first.object, { phase: 'Running' });

    const stored = await read('remove');
    assert.equal(stored.status?.phase, 'Running');
    assert.equal(stored.status?.fault, undefined);
  });

  it('rejects stale status with optimistic lock', async () => {
    const writer = new StatusWriter(controlPlane.kubeConfig(), widgets, { optimisticLock: true });
    const stale = await create('stale', { value: 1 });
    await create('stale', { value: 2 });

    await assert.rejects(
      writer.write(stale, { phase: 'Running' }),
      /failed to write status of Widget .*\/stale: HTTP 409 Conflict/,
    );
    assert.equal((await read('stale')).status?.phase, undefined);
  });

  it('adds and removes a finalizer', async () => {
    const finalizers = new FinalizerClient(
      controlPlane.kubeConfig(),
      widgets,
      'test.novadocker.io/cleanup',
    );
    const created = await create('fin');

    const added = await finalizers.add(created);
    assert.deepEqual((await read('fin')).metadata?.finalizers, ['test.novadocker.io/cleanup']);
    assert.equal(await finalizers.add(added), added, 'adding a present finalizer sends nothing');

    await finalizers.remove(added);
    assert.equal((await read('fin')).metadata?.finalizers, undefined);
  });

  it('keeps other finalizers', async () => {
    const finalizers = new FinalizerClient(
      controlPlane.kubeConfig(),
      widgets,
      'test.novadocker.io/cleanup',
    );
    const manifest = JSON.parse(testObjectManifest(widgets, namespace, 'others', {}));
    manifest.metadata.finalizers = ['example.com/other'];
    await controlPlane.kubectl(['apply', '-f', '-'], { input: JSON.stringify(manifest) });

    const added = await finalizers.add(await read('others'));
    assert.deepEqual(added.metadata?.finalizers, [
      'example.com/other',
      'test.novadocker.io/cleanup',
    ]);
    const removed = await finalizers.remove(added);
    assert.deepEqual(removed.metadata?.finalizers, ['example.com/other']);
  });

  it('rejects finalizer write on stale object', async () => {
    const finalizers = new FinalizerClient(
      controlPlane.kubeConfig(),
      widgets,
      'test.novadocker.io/cleanup',
    );
    const stale = await create('fin-stale', { value: 1 });
    await create('fin-stale', { value: 2 });

    await assert.rejects(
      finalizers.add(stale),
      /failed to add finalizer test.novadocker.io\/cleanup on Widget .*\/fin-stale: HTTP 409 Conflict/,
    );
    assert.equal((await read('fin-stale')).metadata?.finalizers, undefined);
  });

  it('removal lets a deleted object go', async () => {
    const finalizers = new FinalizerClient(
      controlPlane.kubeConfig(),
      widgets,
      'test.novadocker.io/cleanup',
    );
    await finalizers.add(await create('gone'));
    await controlPlane.kubectl([
      'delete',
      `${widgets.plural}.${widgets.group}`,
      'gone',
      '-n',
      namespace,
      '--wait=false',
    ]);
    const deleting = await read('gone');
    assert.ok(deleting.metadata?.deletionTimestamp, 'the finalizer holds the object');

    await finalizers.remove(deleting);

    await assert.rejects(read('gone'), (err: { code?: number }) => err.code === 404);
  });
});
