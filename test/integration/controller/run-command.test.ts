import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { CoordinationV1Api, CustomObjectsApi } from '@kubernetes/client-node';

import { useControlPlane, type ControlPlane } from '../../support/controlplane.js';
import { repoRoot } from '../../support/host-packages.js';
import { portOf } from '../../support/kube.js';
import {
  httpGet,
  startOperatorProcess,
  type OperatorProcess,
} from '../../support/operator-process.js';
import { isRunning, waitFor } from '../../support/process.js';
import { makeStateDir } from '../../support/state.js';
import { kubeConfigThrough, startTcpProxy } from '../../support/tcp-proxy.js';
import {
  createTestNamespace,
  installTestCrd,
  testObjectManifest,
  testResourceType,
  type TestObject,
} from '../../support/test-crd.js';

describe('run command', function () {
  this.timeout(180_000);

  let controlPlane: ControlPlane;
  const widgets = testResourceType('widgets');
  const fixture = join(repoRoot, 'dist/test/fixtures/test-operator.js');

  before(async function () {
    this.timeout(3_600_000);
    controlPlane = await useControlPlane();
    await installTestCrd(controlPlane, widgets);
  });

  const createWidget = (namespace: string, name: string) =>
    controlPlane.kubectl(['apply', '-f', '-'], {
      input: testObjectManifest(widgets, namespace, name, { value: name }),
    });

  async function statusOf(
    namespace: string,
    name: string,
  ): Promise<Record<string, unknown> | undefined> {
    const api = controlPlane.kubeConfig().makeApiClient(CustomObjectsApi);
    return ((await api.getNamespacedCustomObject({ ...widgets, namespace, name })) as TestObject)
      .status;
  }

  async function leaseHolder(
    namespace: string,
    name = 'nova-docker-operator',
  ): Promise<string | undefined> {
    const api = controlPlane.kubeConfig().makeApiClient(CoordinationV1Api);
    return (await api.readNamespacedLease({ namespace, name })).spec?.holderIdentity;
  }

  const leaderArgs = (namespace: string) => [
    '--kubeconfig',
    controlPlane.kubeconfigPath,
    '--namespace',
    namespace,
    '--leader-elect',
    '--leader-election-namespace',
    namespace,
  ];

  async function readyzSays(operator: OperatorProcess, text: string): Promise<boolean> {
    const { body } = await httpGet(`${operator.url}/readyz`);
    return body.includes(text);
  }

  it('reconciles and serves health endpoints', async () => {
    const namespace = await createTestNamespace(controlPlane, 'run-basic');
    const operator = await startOperatorProcess('basic', [
      '--kubeconfig',
      controlPlane.kubeconfigPath,
      '--namespace',
      namespace,
    ]);
    await createWidget(namespace, 'w1');

    await waitFor(
      'w1 reconciled',
      async () => (await statusOf(namespace, 'w1'))?.reconciledBy === 'basic',
      30_000,
    );
    const healthz = await httpGet(`${operator.url}/healthz`);
    assert.equal(healthz.status, 200);
    const readyz = await httpGet(`${operator.url}/readyz`);
    assert.equal(readyz.status, 200);
    assert.match(readyz.body, /\[\+\]informers synced/);
    assert.match(readyz.body, /\[\+\]leader-election disabled/);
    const metrics = await httpGet(`${operator.url}/metrics`);
    assert.match(
      metrics.body,
      /novadocker_reconcile_total\{controller="widget",result="success"\} [1-9]/,
    );
    assert.match(metrics.body, /workqueue_adds_total\{name="widget"\} [1-9]/);
    assert.match(metrics.body, /novadocker_instances\{phase="Running"\} 1/);
    assert.match(metrics.body, /process_resident_memory_bytes/);

    await operator.server.stop();
  });

  it('is not ready before informers sync', async () => {
    const namespace = await createTestNamespace(controlPlane, 'run-ready');
    const proxy = await startTcpProxy(portOf(controlPlane.server));
    proxy.refuse();
    const dir = await makeStateDir('kubeconfig');
    const kubeconfigPath = join(dir, 'kubeconfig');
    await writeFile(
      kubeconfigPath,
      kubeConfigThrough(controlPlane.kubeConfig(), proxy.port).exportConfig(),
    );
    const operator = await startOperatorProcess('unready', [
      '--kubeconfig',
      kubeconfigPath,
      '--namespace',
      namespace,
    ]);

    const notReady = await httpGet(`${operator.url}/readyz`);
    assert.equal(notReady.status, 503);
    assert.match(notReady.body, /\[-\]informers waiting for first list: widgets/);
    assert.equal(
      (await httpGet(`${operator.url}/healthz`)).status,
      200,
      'liveness does not depend on the API server',
    );

    proxy.resume();
    await waitFor(
      'ready once the API server is reachable',
      async () => (await httpGet(`${operator.url}/readyz`)).status === 200,
      60_000,
    );
    await operator.server.stop();
    await proxy.close();
  });

  it('SIGTERM finishes reconcile and releases Lease', async () => {
    const namespace = await createTestNamespace(controlPlane, 'run-term');
    const operator = await startOperatorProcess('term', leaderArgs(namespace), {
      TEST_RECONCILE_DELAY_MS: '3000',
    });
    await waitFor('operator leads', () => readyzSays(operator, 'leader-election leading'), 30_000);
    await createWidget(namespace, 'slow');
    await waitFor(
      'reconcile started',
      async () => (await operator.logLines()).some((line) => line.msg === 'test reconcile started'),
      30_000,
    );

    process.kill(operator.server.pid, 'SIGTERM');

    assert.equal(await operator.exited, 0);
    assert.equal(
      (await statusOf(namespace, 'slow'))?.reconciledBy,
      'term',
      'the in-flight reconcile finished',
    );
    assert.equal(await leaseHolder(namespace), '', 'the Lease was released');
    const lines = await operator.logLines();
    assert.ok(lines.some((line) => line.msg === 'leader election Lease released'));
    assert.ok(lines.some((line) => line.msg === 'stopped' && line.drained === true));
  });

  it('only the leader reconciles; failover after SIGKILL', async () => {
    const namespace = await createTestNamespace(controlPlane, 'run-ha');
    const a = await startOperatorProcess('replica-a', leaderArgs(namespace));
    const b = await startOperatorProcess('replica-b', leaderArgs(namespace));
    await waitFor(
      'one replica leads',
      async () => (await readyzSays(a, 'leading')) || (await readyzSays(b, 'leading')),
      30_000,
    );
    const [leader, standby] = (await readyzSays(a, 'leading')) ? [a, b] : [b, a];
    const leaderName = leader === a ? 'replica-a' : 'replica-b';
    const standbyName = leader === a ? 'replica-b' : 'replica-a';
    // The standby names the leader once its own first attempt has read the Lease, which
    // can come after the leader's acquire when both processes start together.
    await waitFor(
      'standby names the leader',
      () => readyzSays(standby, `leader-election standby (leader: ${leaderName}_`),
      30_000,
    );

    await createWidget(namespace, 'before');
    await waitFor(
      'before reconciled',
      async () => (await statusOf(namespace, 'before'))?.reconciledBy === leaderName,
      30_000,
    );
    assert.equal(
      (await standby.logLines()).filter((line) => line.msg === 'test reconcile started').length,
      0,
      'the standby never reconciled',
    );

    // SIGKILL: the leader cannot release, so the standby waits for the Lease to expire (15 s).
    process.kill(leader.server.pid, 'SIGKILL');
    await leader.exited;
    assert.equal(isRunning(leader.server.pid), false);
    await waitFor(
      'standby takes over',
      () => readyzSays(standby, 'leader-election leading'),
      20_000,
      250,
    );

    await createWidget(namespace, 'after');
    await waitFor(
      'after reconciled by the new leader',
      async () => (await statusOf(namespace, 'after'))?.reconciledBy === standbyName,
      30_000,
    );
    assert.match((await leaseHolder(namespace)) ?? '', new RegExp(`^${standbyName}_`));
    await standby.server.stop();
  });

  it('rejects invalid flags with a clear error', () => {
    const result = spawnSync(process.execPath, [fixture, 'run', '--concurrency', 'many'], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.equal(result.status, 1);
    assert.match(result.stderr, /invalid --concurrency "many": expected a whole number >= 1/);
  });

  it('rejects a missing kubeconfig file', () => {
    const result = spawnSync(
      process.execPath,
      [
        fixture,
        'run',
        '--kubeconfig',
        '/nonexistent/kubeconfig',
        '--metrics-bind-address',
        '0',
        '--health-probe-bind-address',
        '0',
      ],
      {
        encoding: 'utf8',
        timeout: 30_000,
      },
    );
    assert.equal(result.status, 1);
    assert.match(
      result.stdout,
      /kubeconfig file \\"\/nonexistent\/kubeconfig\\" does not exist; pass an existing file with --kubeconfig/,
    );
  });
});
