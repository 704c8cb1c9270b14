/**
 * Deletion of a ContainerInstance: delete its servers and remove the
 * finalizer once the observer shows them gone, or remove the finalizer at
 * once with deletionPolicy Orphan.
 */
import { FINALIZER, type ContainerInstance } from '../api/index.js';
import { done, requeueAfter, type ReconcileResult } from '../controller/reconciler.js';
import type { Server } from '../openstack/index.js';
import type { ResolvedCloud } from './cloud.js';
import { deleteIfExists } from './server-changes.js';
import type { ReconcilerDeps } from './deps.js';
import { classifyError, stalled } from './failures.js';
import type { InstanceMemory } from './instance-memory.js';
import { getServerIfExists } from './observe.js';
import type { ReconcileRun } from './reconcile-run.js';
import { isBeingDeleted, isGone } from './server-state.js';

/**
 * Runs one step of the deletion. Returns done once the finalizer is gone,
 * and a requeue while Nova deletes the servers. Throws a classified failure
 * when the cloud cannot be reached or a call fails.
 */
export async function finalize(
  deps: ReconcilerDeps,
  run: ReconcileRun,
  memory: InstanceMemory,
): Promise<ReconcileResult> {
  if (!hasOperatorFinalizer(run.object)) return done();
  const recordedID = run.status.serverID;

  if (run.object.spec.deletionPolicy === 'Orphan') {
    run.action = 'RemoveFinalizer';
    run.object = await deps.finalizers.remove(run.object);
    run.event(
      'Normal',
      'Orphaned',
      'RemoveFinalizer',
      recordedID === undefined
        ? 'removed the finalizer without deleting any server (deletionPolicy Orphan)'
        : `left server ${recordedID} in place (deletionPolicy Orphan)`,
    );
    return done();
  }

  run.action = 'ResolveCloud';
  const cloud = await deletionCloud(deps, run, memory);
  if (cloud === undefined) {
    await removeFinalizer(deps, run, 'no server was ever created for this instance');
    return done();
  }

  run.action = 'ObserveServer';
  const list = deps.observer.list(cloud.scope, cloud.client, run.uid);
  const snapshot = await list.read(memory.lastWriteAt, run.uid);
  const remaining = new Map<string, Server>();
  for (const server of snapshot.serversOf(run.uid)) {
    if (!isGone(server)) remaining.set(server.id, server);
  }
  if (recordedID !== undefined && snapshot.server(recordedID) === undefined) {
    // A server whose tags someone changed is missing from the listing.
    const server = await getServerIfExists(cloud.client, recordedID);
    if (server !== undefined && !isGone(server)) remaining.set(server.id, server);
  }

  if (remaining.size === 0) {
    await removeFinalizer(
      deps,
      run,
      recordedID === undefined
        ? 'no server exists for this instance'
        : `server ${recordedID} is gone`,
    );
    return done();
  }

  run.action = 'DeleteServer';
  for (const server of remaining.values()) {
    if (isBeingDeleted(server)) continue;
    try {
      await deleteIfExists(cloud, server.id);
    } finally {
      memory.lastWriteAt = Date.now();
      list.refreshSoon();
    }
    memory.ownDeletes.add(server.id);
    run.event('Normal', 'Deleting', 'DeleteServer', `deleting server ${server.id}`);
  }

  const ids = [...remaining.keys()].join(', ');
  run.status.phase = 'Deleting';
  run.markProgressing(
    'Deleting',
    `waiting for server ${ids} to be deleted before the finalizer is removed`,
  );
  await run.flush();
  return requeueAfter(deps.activeIntervalMs);
}

/**
 * Returns the cloud to delete from. When the Secret is gone (a namespace
 * deletion removes it along with the instance) it falls back to the cloud
 * this process used last. Returns undefined when the status proves
 * that no server was ever created. Otherwise it throws a stalled failure
 * that explains how to unblock the deletion.
 */
async function deletionCloud(
  deps: ReconcilerDeps,
  run: ReconcileRun,
  memory: InstanceMemory,
): Promise<ResolvedCloud | undefined> {
  try {
    const cloud = await deps.clouds.resolve(run.object);
    memory.cloud = cloud;
    return cloud;
  } catch (err) {
    const failure = classifyError(err, 'resolve the cloud');
    if (failure.kind !== 'stalled') throw failure;
    if (memory.cloud !== undefined) return memory.cloud;
    if (neverCreated(run.object)) return undefined;
    throw stalled(
      failure.reason,
      `cannot delete the server: ${failure.message}. Restore the Secret so the operator can delete the server, or remove the finalizer ${FINALIZER} by hand to leave the server behind`,
      failure,
    );
  }
}

/**
 * Returns whether the status proves that no server was created: no server
 * ID, and a phase from before the create (the phase Creating is written
 * before every create call).
 */
function neverCreated(instance: ContainerInstance): boolean {
  const status = instance.status;
  if (status?.serverID !== undefined) return false;
  return (
    status?.phase === undefined || status.phase === 'Pending' || status.phase === 'PublishingImage'
  );
}

/** Returns whether the instance carries the operator's finalizer. */
export function hasOperatorFinalizer(instance: ContainerInstance): boolean {
  return instance.metadata.finalizers?.includes(FINALIZER) ?? false;
}

async function removeFinalizer(
  deps: ReconcilerDeps,
  run: ReconcileRun,
  why: string,
): Promise<void> {
  run.action = 'RemoveFinalizer';
  run.object = await deps.finalizers.remove(run.object);
  run.event('Normal', 'Deleted', 'RemoveFinalizer', `removed the finalizer: ${why}`);
}
