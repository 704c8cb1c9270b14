import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import {
  ApiException,
  CoreV1Api,
  VersionApi,
  Watch,
  type V1ConfigMap,
} from '@kubernetes/client-node';

import { useControlPlane, type ControlPlane } from '../../support/controlplane.js';
import { repoRoot } from '../../support/host-packages.js';
import { waitFor } from '../../support/process.js';

const namespace = 'default';

function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

describe('harness control plane', function () {
  this.timeout(120_000);

  let controlPlane: ControlPlane;
  let core: CoreV1Api;

  before(async function () {
    controlPlane = await useControlPlane();
    core = controlPlane.kubeConfig().makeApiClient(CoreV1Api);
  });

  it('serves the pinned Kubernetes version', async function () {
    const goMod = readFileSync(join(repoRoot, 'test/controlplane/go/go.mod'), 'utf8');
    const pinned = /^\s*k8s\.io\/kubernetes (v\S+)$/m.exec(goMod)?.[1];
    const version = await controlPlane.kubeConfig().makeApiClient(VersionApi).getCode();

    assert.ok(pinned, 'go.mod does not pin k8s.io/kubernetes');
    assert.equal(version.gitVersion, pinned);
  });

  it('creates, reads, updates and deletes ConfigMap', async function () {
    const name = uniqueName('crud');

    const created = await core.createNamespacedConfigMap({
      namespace,
      body: { metadata: { name }, data: { color: 'blue' } },
    });
    assert.ok(created.metadata?.uid, 'created ConfigMap has no uid');

    const read = await core.readNamespacedConfigMap({ name, namespace });
    assert.equal(read.data?.color, 'blue');

    const replaced = await core.replaceNamespacedConfigMap({
      name,
      namespace,
      body: { ...read, data: { color: 'green' } },
    });
    assert.equal(replaced.data?.color, 'green');
    assert.notEqual(replaced.metadata?.resourceVersion, read.metadata?.resourceVersion);

    await core.deleteNamespacedConfigMap({ name, namespace });
    await assert.rejects(
      core.readNamespacedConfigMap({ name, namespace }),
      (err: unknown) => err instanceof ApiException && err.code === 404,
    );
  });

  it('watch receives added, modified and deleted', async function () {
    const name = uniqueName('watch');
    const events: { type: string; color: string | undefined }[] = [];
    let watchError: unknown;

    const watch = new Watch(controlPlane.kubeConfig());
    const request = await watch.watch(
      `/api/v1/namespaces/${namespace}/configmaps`,
      { fieldSelector: `metadata.name=${name}` },
      (type, object: V1ConfigMap) => events.push({ type, color: object.data?.color }),
      (err: unknown) => {
        if (err && (err as Error).name !== 'AbortError') watchError = err;
      },
    );
    try {
      await core.createNamespacedConfigMap({
        namespace,
        body: { metadata: { name }, data: { color: 'red' } },
      });
      await core.patchNamespacedConfigMap({
        name,
        namespace,
        body: [{ op: 'replace', path: '/data/color', value: 'amber' }],
      });
      await core.deleteNamespacedConfigMap({ name, namespace });

      await waitFor(
        'three watch events',
        async () => events.length >= 3 || watchError !== undefined,
        30_000,
      );
    } finally {
      request.abort();
    }

    assert.equal(watchError, undefined);
    assert.deepEqual(events, [
      { type: 'ADDED', color: 'red' },
      { type: 'MODIFIED', color: 'amber' },
      { type: 'DELETED', color: 'amber' },
    ]);
  });

  it('kubectl applies manifest from stdin', async function () {
    const name = uniqueName('apply');
    const manifest = `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n  namespace: ${namespace}\ndata:\n  size: small\n`;

    const applied = await controlPlane.kubectl(['apply', '-f', '-'], { input: manifest });
    const read = await core.readNamespacedConfigMap({ name, namespace });

    assert.match(applied.stdout, new RegExp(`configmap/${name} created`));
    assert.equal(read.data?.size, 'small');
  });

  it('kubectl failure rejects with stderr', async function () {
    await assert.rejects(
      controlPlane.kubectl(['get', 'configmap', 'missing-configmap', '-n', namespace]),
      /kubectl get configmap missing-configmap .*NotFound/,
    );
  });

  it('kubectl failure resolves when allowed', async function () {
    const result = await controlPlane.kubectl(['get', 'configmap', 'missing-configmap'], {
      allowFailure: true,
    });

    assert.equal(result.code, 1);
    assert.match(result.stderr, /not found/);
  });
});
