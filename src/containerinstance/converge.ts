/**
 * Converge: the steps that bring an observed server to the spec, one
 * change per reconcile. Each change is followed by a requeue, and the next
 * reconcile observes its effect before it takes the next step.
 */
import { ConditionType, findCondition } from '../api/index.js';
import { done, requeueAfter, type ReconcileResult } from '../controller/reconciler.js';
import { OpenStackError, type Server } from '../openstack/index.js';
import type { ResolvedCloud } from './cloud.js';
import type { ReconcilerDeps } from './deps.js';
import { describeProgress } from './image-step.js';
import type { ImageState } from './image-tracker.js';
import type { InstanceMemory } from './instance-memory.js';
import type { Observation } from './observe.js';
import type { ReconcileRun } from './reconcile-run.js';
import { reportServer } from './server-report.js';
import {
  changedMetadataKeys,
  desiredTags,
  placementFingerprint,
  sameMetadata,
  sameTags,
  serverName,
  serverPlacement,
} from './server-spec.js';
import {
  isTransitional,
  matchesPowerState,
  nextPowerAction,
  type PowerAction,
} from './server-state.js';

/** The inputs of converge, gathered by the earlier steps. */
export interface ConvergeInput {
  cloud: ResolvedCloud;
  observation: Observation;
  image: ImageState;
  /** Server metadata: the resolved env. */
  metadata: Record<string, string>;
}

/** The upper bound of the doubling grace period of servers in ERROR, unless the configured grace is longer. */
const MAX_ERROR_GRACE_MS = 60 * 60 * 1000;

/**
 * Takes the next step towards the spec: create, replace, rebuild, retag or
 * change the power state, or report the instance Ready. Writes the status
 * before returning; throws on a failed OpenStack or status write call.
 */
export async function converge(
  deps: ReconcilerDeps,
  run: ReconcileRun,
  memory: InstanceMemory,
  input: ConvergeInput,
): Promise<ReconcileResult> {
  const { observation, image } = input;
  const server = observation.server;
  if (server === undefined) return createStep(deps, run, memory, input);

  reportServer(run, memory, server);
  if (server.status !== 'ERROR') memory.erroredServer = undefined;
  if (image.state === 'ready' && server.imageId === image.image.glanceID) {
    run.status.image = { glanceID: image.image.glanceID, digest: image.image.digest };
  }

  if (isTransitional(server) && server.status !== 'ERROR') {
    const task = server.taskState ? `task ${server.taskState}` : 'no task';
    return progress(
      deps,
      run,
      `Server${run.status.phase ?? ''}`,
      `server ${server.id} is ${server.status} (${task})`,
    );
  }

  if (
    serverPlacement(server) !== undefined &&
    serverPlacement(server) !== placementFingerprint(run.object)
  ) {
    return replaceStep(deps, run, memory, input, server, placementChange(run, server), 'Normal');
  }

  if (image.state !== 'ready') {
    return progress(
      deps,
      run,
      'PublishingImage',
      describeProgress(run.object.spec.image, image.progress),
    );
  }

  if (server.imageId !== image.image.glanceID || !sameMetadata(server.metadata, input.metadata)) {
    if (server.status === 'PAUSED') return powerStep(deps, run, memory, input, server, 'unpause');
    return rebuildStep(deps, run, memory, input, server);
  }

  if (server.status === 'ERROR') return erroredStep(deps, run, memory, input, server);

  const tags = desiredTags(run.object);
  if (!sameTags(server.tags, tags)) {
    run.action = 'UpdateTags';
    await write(memory, observation, () =>
      input.cloud.client.compute.replaceServerTags(server.id, tags),
    );
    run.event(
      'Normal',
      'TagsUpdated',
      'UpdateTags',
      `set the tags of server ${server.id} to ${tags.join(', ')}`,
    );
  }

  const requested = run.object.spec.powerState ?? 'Running';
  const action = nextPowerAction(server, requested);
  if (action !== undefined) return powerStep(deps, run, memory, input, server, action);
  if (!matchesPowerState(server, requested)) {
    // NOTE: SUSPENDED, SHELVED and RESCUE need resume, unshelve or unrescue,
    // which the operator does not send; it reports the state and waits.
    run.markStalled(
      'UnsupportedServerState',
      `server ${server.id} is ${server.status}, which the operator cannot change to ${requested}; bring it back with the openstack CLI (e.g. openstack server resume) and the operator takes over`,
    );
    await run.flush();
    return done();
  }

  return readyStep(run, memory, server);
}

async function createStep(
  deps: ReconcilerDeps,
  run: ReconcileRun,
  memory: InstanceMemory,
  input: ConvergeInput,
): Promise<ReconcileResult> {
  const { observation, image, cloud } = input;
  delete run.status.addresses;
  delete run.status.powerState;
  delete run.status.fault;
  run.condition(ConditionType.ServerReady, 'False', 'NoServer', 'no server exists yet');

  if (observation.leaving.length > 0) {
    const ids = observation.leaving.map((server) => server.id).join(', ');
    run.status.phase = 'Creating';
    return progress(
      deps,
      run,
      'WaitingForDeletion',
      `waiting for server ${ids} to be deleted before creating its replacement`,
    );
  }
  if (image.state !== 'ready') {
    run.status.phase = 'PublishingImage';
    return progress(
      deps,
      run,
      'PublishingImage',
      describeProgress(run.object.spec.image, image.progress),
    );
  }

  // Resolve names first, so an unknown flavor stalls before anything exists.
  if (run.status.phase === 'PublishingImage') run.status.phase = 'Pending';
  run.action = 'ResolvePlacement';
  const placement = await deps.placement.resolve(cloud, run.object);

  // The phase is written before the create, so a deletion that finds no
  // server ID later still knows a server may exist.
  run.action = 'CreateServer';
  run.status.phase = 'Creating';
  run.status.image = { glanceID: image.image.glanceID, digest: image.image.digest };
  run.markProgressing('CreatingServer', `creating the server with flavor ${placement.flavor.name}`);
  await run.flush();

  const { spec } = run.object;
  const created = await write(memory, observation, () =>
    cloud.client.compute.createServer({
      name: serverName(run.object),
      imageRef: image.image.glanceID,
      flavorRef: placement.flavor.id,
      networks: placement.networks,
      tags: desiredTags(run.object),
      metadata: input.metadata,
      ...(placement.securityGroups === undefined
        ? {}
        : { securityGroups: placement.securityGroups }),
      ...(spec.availabilityZone === undefined ? {} : { availabilityZone: spec.availabilityZone }),
      ...(spec.keyName === undefined ? {} : { keyName: spec.keyName }),
    }),
  );
  memory.createdServerID = created.id;
  deps.afterServerCreate?.(created.id);

  run.setServerID(created.id);
  run.log = run.log.child(created.requestId === undefined ? {} : { requestID: created.requestId });
  run.event(
    'Normal',
    'Created',
    'CreateServer',
    `created server ${created.id} with flavor ${placement.flavor.name} from Glance image ${image.image.glanceID}`,
  );
  return progress(deps, run, 'ServerBuilding', `server ${created.id} is building`);
}

async function replaceStep(
  deps: ReconcilerDeps,
  run: ReconcileRun,
  memory: InstanceMemory,
  input: ConvergeInput,
  server: Server,
  why: string,
  eventType: 'Normal' | 'Warning',
): Promise<ReconcileResult> {
  // The new placement must resolve before the old server goes away.
  run.action = 'ResolvePlacement';
  await deps.placement.resolve(input.cloud, run.object);

  run.action = 'RecreateServer';
  await write(memory, input.observation, () => deleteIfExists(input.cloud, server.id));
  memory.ownDeletes.add(server.id);
  run.event(
    eventType,
    'Recreating',
    'RecreateServer',
    `deleting server ${server.id} to create a new one: ${why}`,
  );

  run.setServerID(undefined);
  delete run.status.addresses;
  delete run.status.powerState;
  delete run.status.fault;
  run.status.phase = 'Creating';
  run.condition(ConditionType.ServerReady, 'False', 'Recreating', why);
  return progress(deps, run, 'Recreating', `replacing server ${server.id}: ${why}`);
}

async function rebuildStep(
  deps: ReconcilerDeps,
  run: ReconcileRun,
  memory: InstanceMemory,
  input: ConvergeInput,
  server: Server,
): Promise<ReconcileResult> {
  if (input.image.state !== 'ready') throw new Error('rebuildStep needs a published image');
  const image = input.image.image;
  const reasons: string[] = [];
  if (server.imageId !== image.glanceID) {
    reasons.push(
      `image changed from Glance image ${server.imageId ?? 'none'} to ${image.glanceID} (${run.object.spec.image})`,
    );
  }
  const keys = changedMetadataKeys(server.metadata, input.metadata);
  if (keys.length > 0) reasons.push(`environment changed: ${keys.join(', ')}`);

  // One rebuild call sets the image and the metadata together: if it fails,
  // neither changed, and the next reconcile sees the same difference.
  run.action = 'RebuildServer';
  await write(memory, input.observation, () =>
    input.cloud.client.compute.rebuildServer(server.id, {
      imageRef: image.glanceID,
      metadata: input.metadata,
    }),
  );
  run.event(
    'Normal',
    'Rebuilding',
    'RebuildServer',
    `rebuilding server ${server.id}: ${reasons.join('; ')}`,
  );
  run.status.phase = 'Creating';
  run.status.image = { glanceID: image.glanceID, digest: image.digest };
  return progress(deps, run, 'Rebuilding', `rebuilding server ${server.id}: ${reasons.join('; ')}`);
}

const POWER_EVENTS: Readonly<Record<PowerAction, { reason: string; verb: string }>> = {
  start: { reason: 'Starting', verb: 'starting' },
  stop: { reason: 'Stopping', verb: 'stopping' },
  pause: { reason: 'Pausing', verb: 'pausing' },
  unpause: { reason: 'Unpausing', verb: 'unpausing' },
};

async function powerStep(
  deps: ReconcilerDeps,
  run: ReconcileRun,
  memory: InstanceMemory,
  input: ConvergeInput,
  server: Server,
  action: PowerAction,
): Promise<ReconcileResult> {
  const compute = input.cloud.client.compute;
  run.action = 'PowerAction';
  await write(memory, input.observation, () => {
    switch (action) {
      case 'start':
        return compute.startServer(server.id);
      case 'stop':
        return compute.stopServer(server.id);
      case 'pause':
        return compute.pauseServer(server.id);
      case 'unpause':
        return compute.unpauseServer(server.id);
    }
  });
  const { reason, verb } = POWER_EVENTS[action];
  const requested = run.object.spec.powerState ?? 'Running';
  run.event(
    'Normal',
    reason,
    'PowerAction',
    `${verb} server ${server.id} (${server.status}) towards power state ${requested}`,
  );
  return progress(deps, run, reason, `${verb} server ${server.id}`);
}

async function erroredStep(
  deps: ReconcilerDeps,
  run: ReconcileRun,
  memory: InstanceMemory,
  input: ConvergeInput,
  server: Server,
): Promise<ReconcileResult> {
  const fault = run.status.fault?.message ?? 'no fault recorded';
  if (!deps.erroredServers.recreate) {
    run.markStalled(
      'ServerError',
      `server ${server.id} is in ERROR: ${fault}; the operator keeps observing it and reports when it recovers, but does not replace it (--recreate-errored-servers=false)`,
    );
    await run.flush();
    return done();
  }

  if (memory.erroredServer?.id !== server.id) {
    const faultTime = server.fault?.created === undefined ? NaN : Date.parse(server.fault.created);
    memory.erroredServer = {
      id: server.id,
      since: Number.isNaN(faultTime) ? Date.now() : Math.min(faultTime, Date.now()),
    };
  }
  const grace = Math.max(
    deps.erroredServers.graceMs,
    Math.min(deps.erroredServers.graceMs * 2 ** memory.errorRecreates, MAX_ERROR_GRACE_MS),
  );
  const remainingMs = memory.erroredServer.since + grace - Date.now();
  if (remainingMs > 0) {
    run.markProgressing(
      'ServerError',
      `server ${server.id} is in ERROR: ${fault}; it is replaced in ${Math.ceil(remainingMs / 1000)} s unless it recovers`,
    );
    await run.flush();
    return requeueAfter(remainingMs);
  }

  memory.errorRecreates += 1;
  memory.erroredServer = undefined;
  return replaceStep(
    deps,
    run,
    memory,
    input,
    server,
    `it stayed in ERROR for ${Math.round(grace / 1000)} s (${fault})`,
    'Warning',
  );
}

async function readyStep(
  run: ReconcileRun,
  memory: InstanceMemory,
  server: Server,
): Promise<ReconcileResult> {
  memory.errorRecreates = 0;
  const wasReady =
    findCondition(run.object.status?.conditions, ConditionType.Ready)?.status === 'True';
  const addresses = server.addresses.map((address) => address.ip).join(', ');
  const message = `server ${server.id} is ${server.status}${addresses ? ` at ${addresses}` : ''}`;
  run.markReady(`Server${run.status.phase ?? ''}`, message);
  if (!wasReady) run.event('Normal', 'Ready', 'ObserveServer', message);
  await run.flush();
  return done();
}

/** Marks progress, writes the status and requeues after the active interval. */
async function progress(
  deps: ReconcilerDeps,
  run: ReconcileRun,
  reason: string,
  message: string,
): Promise<ReconcileResult> {
  run.markProgressing(reason, message);
  await run.flush();
  return requeueAfter(deps.activeIntervalMs);
}

/**
 * Runs one write to OpenStack and then records its time and asks the
 * observer for a new listing, also when the call failed, because a failed
 * call may still have reached Nova.
 */
async function write<T>(
  memory: InstanceMemory,
  observation: Observation,
  call: () => Promise<T>,
): Promise<T> {
  try {
    return await call();
  } finally {
    memory.lastWriteAt = Date.now();
    observation.list.refreshSoon();
  }
}

/** Deletes a server; a server that is already gone counts as deleted. */
export async function deleteIfExists(cloud: ResolvedCloud, id: string): Promise<void> {
  try {
    await cloud.client.compute.deleteServer(id);
  } catch (err) {
    if (err instanceof OpenStackError && err.errorClass === 'notFound') return;
    throw err;
  }
}

/** Describes a placement change for Events, naming the flavor when it is what changed. */
function placementChange(run: ReconcileRun, server: Server): string {
  const requested = run.object.spec.flavor;
  const current = server.flavor;
  if (current !== undefined && current.name !== requested && current.id !== requested) {
    return `flavor changed from ${current.name ?? current.id ?? 'unknown'} to ${requested}`;
  }
  return 'spec.flavor, networks, keyName or securityGroups changed';
}
