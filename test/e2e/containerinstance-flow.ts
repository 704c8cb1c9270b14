/**
 * The user's flow through kubectl, as one suite that each target file runs:
 * apply and wait for Ready, change the environment, delete, see a fault,
 * trust kstatus readiness, and watch drift from a suspend or a shelve
 * corrected. Every scenario uses its own instance, so each can
 * run and fail alone.
 */
import assert from 'node:assert/strict';

import { isErrorClass, type Server } from '../../src/openstack/index.js';
import { WEB_COMMAND, type E2ETarget } from '../support/e2e-target.js';
import { isCurrent, watchInstance } from '../support/instance-watch.js';
import { waitFor } from '../support/process.js';

/** How long an instance may take to settle; image publishing dominates. */
const SETTLE_SECONDS = 180;

/** The subset of a ContainerInstance these tests read back. */
interface InstanceJson {
  metadata: { generation: number; uid: string };
  status?: {
    observedGeneration?: number;
    phase?: string;
    serverID?: string;
    fault?: { message?: string };
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
  };
}

/** Registers the flow under `title`; `useTarget` starts (or skips) the target in before(). */
export function describeContainerInstanceFlow(
  title: string,
  useTarget: (context: Mocha.Context) => Promise<E2ETarget>,
): void {
  describe(title, function () {
    this.timeout((SETTLE_SECONDS + 60) * 1000);
    let target: E2ETarget;

    before(async function () {
      // The first run builds the control plane binaries and starts every server.
      this.timeout(60 * 60_000);
      target = await useTarget(this);
    });

    // Deletes while the operator still runs, so no server outlives the suite,
    // which matters on the shared OpenStack test cloud.
    after(async function () {
      this.timeout(SETTLE_SECONDS * 1000);
      if (!target) return;
      await kubectl(['delete', 'containerinstances', '--all', `--timeout=${SETTLE_SECONDS}s`]);
    });

    const kubectl = (args: string[], input?: string) =>
      target.controlPlane.kubectl(['--namespace', target.namespace, ...args], {
        ...(input === undefined ? {} : { input }),
      });

    const apply = (name: string, spec: Record<string, unknown>) =>
      kubectl(
        ['apply', '-f', '-'],
        JSON.stringify({
          apiVersion: 'novadocker.io/v1alpha1',
          kind: 'ContainerInstance',
          metadata: { name },
          spec: { networks: [{ name: target.network }], ...spec },
        }),
      );

    const webSpec = (greeting: string) => ({
      image: target.image,
      flavor: target.flavor,
      command: WEB_COMMAND,
      env: [{ name: 'GREETING', value: greeting }],
    });

    const waitReady = (name: string) =>
      kubectl([
        'wait',
        '--for=condition=Ready',
        `--timeout=${SETTLE_SECONDS}s`,
        `containerinstance/${name}`,
      ]);

    const get = async (name: string): Promise<InstanceJson> =>
      JSON.parse((await kubectl(['get', `containerinstance/${name}`, '-o', 'json'])).stdout);

    const server = (id: string): Promise<Server> => target.openstack.compute.getServer(id);

    it('becomes Ready after apply', async function () {
      await apply('web-ready', webSpec('hello'));
      await waitReady('web-ready');

      const instance = await get('web-ready');
      assert.equal(instance.status?.observedGeneration, instance.metadata.generation);
      assert.equal(instance.status?.phase, 'Running');
      assert.ok(instance.status?.serverID, 'status.serverID is empty');

      const created = await server(instance.status.serverID);
      assert.equal(created.status, 'ACTIVE');
      assert.equal(created.metadata.GREETING, 'hello');
      if (target.container) {
        const container = await target.container(instance.status.serverID);
        assert.equal(container?.running, true, 'the server container is not running');
        assert.ok(container.env.includes('GREETING=hello'), `env: ${container.env.join(' ')}`);
        assert.deepEqual(container.cmd, WEB_COMMAND);
      }
    });

    it('applies changed env', async function () {
      await apply('web-env', webSpec('before'));
      await waitReady('web-env');

      await kubectl([
        'patch',
        'containerinstance/web-env',
        '--type=merge',
        '--patch',
        JSON.stringify({ spec: { env: [{ name: 'GREETING', value: 'after' }] } }),
      ]);
      await kubectl([
        'wait',
        '--for=jsonpath={.status.observedGeneration}=2',
        `--timeout=${SETTLE_SECONDS}s`,
        'containerinstance/web-env',
      ]);
      await waitReady('web-env');

      const instance = await get('web-env');
      assert.equal(instance.metadata.generation, 2);
      const updated = await server(instance.status!.serverID!);
      assert.equal(updated.metadata.GREETING, 'after');
      if (target.container) {
        const container = await target.container(instance.status!.serverID!);
        assert.equal(container?.running, true, 'the server container is not running');
        assert.ok(container.env.includes('GREETING=after'), `env: ${container.env.join(' ')}`);
      }
    });

    it('deletes server with instance', async function () {
      await apply('web-delete', webSpec('bye'));
      await waitReady('web-delete');
      const { serverID } = (await get('web-delete')).status!;

      await kubectl(['delete', 'containerinstance/web-delete', `--timeout=${SETTLE_SECONDS}s`]);

      const remaining = await server(serverID!).then(
        (found) => found.status,
        (err: unknown) => {
          if (isErrorClass(err, 'notFound')) return 'gone';
          throw err;
        },
      );
      assert.ok(['gone', 'DELETED', 'SOFT_DELETED'].includes(remaining), `server is ${remaining}`);
      if (target.container) {
        assert.equal(await target.container(serverID!), undefined, 'the container still exists');
      }
    });

    it('reports unschedulable flavor fault', async function () {
      await apply('too-big', { image: target.image, flavor: target.unschedulableFlavor });
      await kubectl([
        'wait',
        '--for=jsonpath={.status.phase}=Failed',
        `--timeout=${SETTLE_SECONDS}s`,
        'containerinstance/too-big',
      ]);

      const instance = await get('too-big');
      const ready = instance.status?.conditions?.find((c) => c.type === 'Ready');
      assert.equal(ready?.status, 'False');
      assert.match(instance.status?.fault?.message ?? '', /No valid host was found/);

      const described = (await kubectl(['describe', 'containerinstance/too-big'])).stdout;
      const events = described.slice(described.indexOf('Events:'));
      assert.match(events, /No valid host was found/, described);
    });

    it('corrects suspend and shelve', async function () {
      this.timeout(3 * SETTLE_SECONDS * 1000);
      await apply('web-drift', webSpec('steady'));
      await waitReady('web-drift');
      const before = await get('web-drift');
      const serverID = before.status!.serverID!;
      const imageID = (await server(serverID)).imageId;

      const reasons = async (): Promise<string[]> => {
        const listed = await kubectl([
          'get',
          'events',
          '--field-selector',
          `involvedObject.uid=${before.metadata.uid}`,
          '-o',
          'jsonpath={range .items[*]}{.reason}{"\\n"}{end}',
        ]);
        return listed.stdout.split('\n').filter((reason) => reason !== '');
      };
      const settledAs = async (status: string, reason: string): Promise<boolean> => {
        const found = await server(serverID);
        return found.status === status && !found.taskState && (await reasons()).includes(reason);
      };

      // The project's member suspends the server, as `openstack server suspend` would.
      await target.openstack.compute.suspendServer(serverID);
      await waitFor(
        'the operator resumes the suspended server',
        () => settledAs('ACTIVE', 'Resuming'),
        SETTLE_SECONDS * 1000,
        1000,
      );
      await waitReady('web-drift');

      await target.openstack.compute.shelveServer(serverID);
      await waitFor(
        'the operator unshelves the shelved server',
        () => settledAs('ACTIVE', 'Unshelving'),
        SETTLE_SECONDS * 1000,
        1000,
      );
      await waitReady('web-drift');

      const after = await get('web-drift');
      assert.equal(after.status?.serverID, serverID, 'the server was replaced');
      assert.equal(after.status?.phase, 'Running');
      const unshelved = await server(serverID);
      assert.equal(unshelved.imageId, imageID, 'the server boots another image after unshelve');
      assert.ok(!(await reasons()).includes('Rebuilding'), 'the server was rebuilt');
      if (target.container) {
        const container = await target.container(serverID);
        assert.equal(container?.running, true, 'the server container is not running');
      }
    });

    it('reports Ready only when current', async function () {
      const watch = await watchInstance(target.controlPlane, target.namespace, 'web-kstatus');
      try {
        await apply('web-kstatus', webSpec('first'));
        await waitReady('web-kstatus');
        const afterApply = await get('web-kstatus');
        assert.equal(afterApply.status?.observedGeneration, afterApply.metadata.generation);

        // Until the first status for generation 1 is written, Ready must not be True.
        const early = watch.observations.filter(
          (seen) => seen.ready === 'True' && seen.observedGeneration !== seen.generation,
        );
        assert.deepEqual(early, [], 'Ready=True with a stale observedGeneration');
        // The watch opened before the apply, so it saw versions before the first current one.
        assert.ok(watch.observations.findIndex(isCurrent) > 0, 'no version before Ready was seen');
        const firstCurrent = watch.observations.find(isCurrent);
        assert.equal(firstCurrent?.phase, 'Running');
        assert.ok(firstCurrent?.serverID, 'first current version has no serverID');

        // After an update, the first current version of generation 2 must
        // come only once the cloud has the change.
        await kubectl([
          'patch',
          'containerinstance/web-kstatus',
          '--type=merge',
          '--patch',
          JSON.stringify({ spec: { env: [{ name: 'GREETING', value: 'second' }] } }),
        ]);
        const deadline = Date.now() + SETTLE_SECONDS * 1000;
        let current;
        while (!current && Date.now() < deadline) {
          current = watch.observations.find((seen) => seen.generation === 2 && isCurrent(seen));
          if (!current) await new Promise((resolve) => setTimeout(resolve, 100));
        }
        assert.ok(current, 'generation 2 never became current');
        const pending = watch.observations.filter(
          (seen) => seen.generation === 2 && !isCurrent(seen),
        );
        assert.ok(pending.length > 0, 'no version of generation 2 before it became current');
        const updated = await server(current.serverID!);
        assert.equal(updated.metadata.GREETING, 'second');
      } finally {
        await watch.stop();
      }
    });
  });
}
