/**
 * The steps that change a server in OpenStack: create, replace, rebuild and
 * power actions. Each sends one write, records it for the observer, writes
 * the status and requeues.
 */
import { ConditionType } from '../api/index.js';
import { requeueAfter, type ReconcileResult } from '../controller/reconciler.js';
import { OpenStackError, type Server } from '../openstack/index.js';
import type { ResolvedCloud } from './cloud.js';
import type { ConvergeInput } from './converge.js';
import type { ReconcilerDeps } from './deps.js';
import { describeProgress } from './image-step.js';
import type { InstanceMemory } from './instance-memory.js';
import type { Observation } from './observe.js';
import type { ReconcileRun } from './reconcile-run.js';
import { changedMetadataKeys, desiredTags, serverName } from './server-spec.js';
import type { PowerAction } from './server-state.js';

/**
 * Creates the server once nothing blocks it: no old server is still being
 * deleted, the image is published, and the placement names resolve. Writes
 * status.serverID right after the create returns. Throws on a failed call.
 */
export async function createStep(
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

  // The phase is written before the create. A deletion that later finds no
  // server ID can then tell that a server may exist.
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
  return progress(deps, run, 'ServerBuild', `server ${created.id} is building`);
}

/**
 * Deletes the server so that the next reconciles create a new one, after
 * checking that the new placement resolves. `why` goes into the Event and
 * the conditions. Throws on a failed call.
 */
export async function replaceStep(
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

/**
 * Rebuilds the server onto the published image with the desired metadata,
 * naming the changed image and env keys (never values) in the Event.
 * Throws on a failed call.
 */
export async function rebuildStep(
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

  // One rebuild call sets the image and the metadata together. If it fails,
  // neither changed, so the next reconcile finds the same difference.
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
  resume: { reason: 'Resuming', verb: 'resuming' },
  unshelve: { reason: 'Unshelving', verb: 'unshelving' },
};

/**
 * Sends one power action and records it in an Event that names the status
 * the server was found in. `purpose` ends the Event message; by default it
 * names spec.powerState. Throws on a failed call.
 */
export async function powerStep(
  deps: ReconcilerDeps,
  run: ReconcileRun,
  memory: InstanceMemory,
  input: ConvergeInput,
  server: Server,
  action: PowerAction,
  purpose?: string,
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
      case 'resume':
        return compute.resumeServer(server.id);
      case 'unshelve':
        return compute.unshelveServer(server.id);
    }
  });
  const { reason, verb } = POWER_EVENTS[action];
  const requested = run.object.spec.powerState ?? 'Running';
  run.event(
    'Normal',
    reason,
    'PowerAction',
    `${verb} server ${server.id}, found ${server.status}, ${purpose ?? `towards power state ${requested}`}`,
  );
  return progress(deps, run, reason, `${verb} server ${server.id}`);
}

/** Marks progress, writes the status and requeues after the active interval. */
export async function progress(
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
 * Runs one write to OpenStack, then records its time and requests a new
 * listing from the observer. Both happen also when the call failed,
 * because a failed call may still have reached Nova.
 */
export async function write<T>(
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
