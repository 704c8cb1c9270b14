/**
 * Converge: the steps that bring an observed server to the spec, one
 * change per reconcile. Each change is followed by a requeue, and the next
 * reconcile observes its effect before it takes the next step.
 */
import { ConditionType, findCondition } from '../api/index.js';
import { done, requeueAfter, type ReconcileResult } from '../controller/reconciler.js';
import type { Server } from '../openstack/index.js';
import type { ResolvedCloud } from './cloud.js';
import type { ReconcilerDeps } from './deps.js';
import { describeProgress } from './image-step.js';
import type { ImageState } from './image-tracker.js';
import type { InstanceMemory } from './instance-memory.js';
import type { Observation } from './observe.js';
import type { ReconcileRun } from './reconcile-run.js';
import {
  createStep,
  powerStep,
  progress,
  rebuildStep,
  replaceStep,
  write,
} from './server-changes.js';
import { pascal, reportServer } from './server-report.js';
import {
  desiredTags,
  placementFingerprint,
  sameMetadata,
  sameTags,
  serverPlacement,
} from './server-spec.js';
import {
  actionBeforeRebuild,
  actionBeforeTagUpdate,
  isTransitional,
  matchesPowerState,
  nextPowerAction,
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
      `Server${pascal(server.status)}`,
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
    const before = actionBeforeRebuild(server);
    if (before !== undefined) {
      return powerStep(deps, run, memory, input, server, before, 'so that it can be rebuilt');
    }
    return rebuildStep(deps, run, memory, input, server);
  }

  if (server.status === 'ERROR') return erroredStep(deps, run, memory, input, server);

  const tags = desiredTags(run.object);
  if (!sameTags(server.tags, tags)) {
    const before = actionBeforeTagUpdate(server);
    if (before !== undefined) {
      return powerStep(deps, run, memory, input, server, before, 'so that its tags can be set');
    }
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
    // RESCUE (and any status Nova adds later) gets no action, because
    // unrescue would undo the repair work of the person who rescued the
    // server. The operator reports the state and waits.
    run.markStalled(
      'UnsupportedServerState',
      `server ${server.id} is ${server.status}, which the operator cannot change to ${requested}; bring it back with the openstack CLI (e.g. openstack server unrescue) and the operator takes over`,
    );
    await run.flush();
    return done();
  }

  return readyStep(run, memory, server);
}

async function erroredStep(
  deps: ReconcilerDeps,
  run: ReconcileRun,
  memory: InstanceMemory,
  input: ConvergeInput,
  server: Server,
): Promise<ReconcileResult> {
  // Nova's messages often end in a space, e.g. "No valid host was found. ".
  const fault = run.status.fault?.message?.trim() || 'no fault recorded';
  if (!deps.erroredServers.recreate) {
    run.markStalled(
      'ServerError',
      `server ${server.id} is in ERROR: ${fault}; the operator keeps observing it and reports when it recovers, but does not replace it (--no-recreate-errored-servers)`,
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
  const replaceAt = memory.erroredServer.since + grace;
  const remainingMs = replaceAt - Date.now();
  if (remainingMs > 0) {
    // An absolute time, because a countdown would change the message, and so
    // write status, on every reconcile while the server waits.
    run.markProgressing(
      'ServerError',
      `server ${server.id} is in ERROR: ${fault}; it is replaced at ${new Date(replaceAt).toISOString()} unless it recovers`,
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

/** Describes a placement change for Events, naming the flavor when it is what changed. */
function placementChange(run: ReconcileRun, server: Server): string {
  const requested = run.object.spec.flavor;
  const current = server.flavor;
  if (current !== undefined && current.name !== requested && current.id !== requested) {
    return `flavor changed from ${current.name ?? current.id ?? 'unknown'} to ${requested}`;
  }
  return 'spec.flavor, networks, keyName or securityGroups changed';
}
