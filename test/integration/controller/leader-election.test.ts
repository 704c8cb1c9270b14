import assert from 'node:assert/strict';

import { CoordinationV1Api, V1MicroTime } from '@kubernetes/client-node';

import { LeaderElector } from '../../../src/kube/leader-election.js';
import { useControlPlane, type ControlPlane } from '../../support/controlplane.js';
import { captureLogger } from '../../support/kube.js';
import { waitFor } from '../../support/process.js';
import { createTestNamespace } from '../../support/test-crd.js';

describe('leader election', function () {
  this.timeout(120_000);

  let controlPlane: ControlPlane;
  let namespace: string;
  const electors: LeaderElector[] = [];

  before(async function () {
    this.timeout(3_600_000);
    controlPlane = await useControlPlane();
    namespace = await createTestNamespace(controlPlane, 'election');
  });

  afterEach(async () => {
    for (const elector of electors.splice(0)) await elector.stop();
  });

  function candidate(lease: string, identity: string) {
    const changes: string[] = [];
    const { logger } = captureLogger();
    const elector = new LeaderElector({
      kubeConfig: controlPlane.kubeConfig(),
      namespace,
      name: lease,
      identity,
      logger,
      onStartedLeading: () => changes.push('started'),
      onStoppedLeading: (reason) => changes.push(`stopped:${reason}`),
    });
    electors.push(elector);
    return { elector, changes };
  }

  async function holderOf(lease: string): Promise<string | undefined> {
    const api = controlPlane.kubeConfig().makeApiClient(CoordinationV1Api);
    return (await api.readNamespacedLease({ namespace, name: lease })).spec?.holderIdentity;
  }

  it('elects exactly one leader', async () => {
    const a = candidate('one-leader', 'a');
    const b = candidate('one-leader', 'b');
    a.elector.start();
    b.elector.start();

    await waitFor('a leader', async () => a.elector.isLeader() || b.elector.isLeader(), 20_000);
    // Several renew periods pass; leadership must neither split nor move.
    for (let i = 0; i < 5; i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      assert.equal(
        Number(a.elector.isLeader()) + Number(b.elector.isLeader()),
        1,
        'exactly one leads',
      );
    }
    const leader = a.elector.isLeader() ? 'a' : 'b';
    assert.equal(await holderOf('one-leader'), leader);
  });

  it('hands over after release', async () => {
    const a = candidate('release', 'a');
    a.elector.start();
    await waitFor('a leads', async () => a.elector.isLeader(), 20_000);
    const b = candidate('release', 'b');
    b.elector.start();
    await new Promise((resolve) => setTimeout(resolve, 3000));
    assert.equal(b.elector.isLeader(), false, 'b waits while a renews');

    await a.elector.stop();
    assert.deepEqual(a.changes, ['started', 'stopped:released']);
    assert.notEqual(await holderOf('release'), 'a', 'the Lease no longer names a');

    // Release clears the holder, so b needs one retry period, not a lease duration.
    await waitFor('b leads', async () => b.elector.isLeader(), 20_000);
    assert.equal(await holderOf('release'), 'b');
  });

  it('takes over an expired Lease', async () => {
    // A Lease renewed by a process that then died: nothing releases it.
    const api = controlPlane.kubeConfig().makeApiClient(CoordinationV1Api);
    await api.createNamespacedLease({
      namespace,
      body: {
        metadata: { name: 'expired', namespace },
        spec: {
          holderIdentity: 'dead-replica',
          leaseDurationSeconds: 15,
          renewTime: new V1MicroTime(),
          acquireTime: new V1MicroTime(),
        },
      },
    });
    const b = candidate('expired', 'b');
    b.elector.start();
    await new Promise((resolve) => setTimeout(resolve, 5000));
    assert.equal(b.elector.isLeader(), false, 'b respects an unexpired Lease');

    await waitFor('b leads', async () => b.elector.isLeader(), 20_000);
    assert.equal(await holderOf('expired'), 'b');
  });

  it('rejects a renew deadline over the lease', () => {
    const { logger } = captureLogger();
    assert.throws(
      () =>
        new LeaderElector({
          kubeConfig: controlPlane.kubeConfig(),
          namespace,
          name: 'bad',
          leaseDurationMs: 5000,
          renewDeadlineMs: 10_000,
          logger,
          onStartedLeading: () => undefined,
          onStoppedLeading: () => undefined,
        }),
      /lease duration \(5000 ms\) must be greater than renew deadline \(10000 ms\)/,
    );
  });
});
