/**
 * Observe: which server belongs to an instance, read from the shared server
 * listing. Adopts the one server carrying the instance tag, stops on two or
 * more, and confirms with a GET before treating a recorded server as gone.
 */
import { OpenStackError, type OpenStackClient, type Server } from '../openstack/index.js';
import type { ResolvedCloud } from './cloud.js';
import { stalled } from './failures.js';
import type { InstanceMemory } from './instance-memory.js';
import type { ReconcileRun } from './reconcile-run.js';
import type { ServerList, ServerObserver } from './server-observer.js';
import type { ServerSnapshot } from './server-snapshot.js';
import { isBeingDeleted, isGone } from './server-state.js';

/** The OpenStack resources of one instance. */
export interface Observation {
  list: ServerList;
  snapshot: ServerSnapshot;
  /** The instance's server; undefined when it has none and one must be created. */
  server: Server | undefined;
  /** Servers of this instance that Nova is deleting; a replacement waits until they are gone. */
  leaving: Server[];
}

/**
 * Finds the instance's server in a listing that started after the
 * operator's last write for it. Throws a stalled failure when two or more
 * live servers carry the instance tag, and a transient one when the listing
 * failed. Updates status.serverID when it adopts a server or finds the
 * recorded one gone.
 */
export async function observe(
  observer: ServerObserver,
  run: ReconcileRun,
  memory: InstanceMemory,
  cloud: ResolvedCloud,
): Promise<Observation> {
  const list = observer.list(cloud.scope, cloud.client, run.uid);
  const snapshot = await list.read(memory.lastWriteAt, run.uid);
  const tagged = snapshot.serversOf(run.uid);
  const live = tagged.filter((server) => !isBeingDeleted(server));
  const leaving = tagged.filter((server) => isBeingDeleted(server) && !isGone(server));

  const recordedID = run.status.serverID;
  let server: Server | undefined;
  if (recordedID !== undefined) {
    server = snapshot.server(recordedID);
    if (server === undefined) {
      // The listing is filtered by tag, so it also misses a server whose
      // tags someone changed; only a definite 404 proves the server gone.
      server = await getServerIfExists(cloud.client, recordedID);
    }
    if (server !== undefined && isBeingDeleted(server)) {
      if (!isGone(server) && !leaving.some((candidate) => candidate.id === server!.id)) {
        leaving.push(server);
      }
      server = undefined;
    }
    if (server === undefined) {
      run.setServerID(undefined);
      if (!memory.ownDeletes.has(recordedID)) {
        run.event(
          'Warning',
          'ServerDeletedOutOfBand',
          'ObserveServer',
          `server ${recordedID} was deleted outside the operator; creating a replacement`,
        );
      }
    }
  }

  const others = live.filter((candidate) => candidate.id !== server?.id);
  if (server !== undefined && others.length > 0) {
    throw duplicates([server, ...others], run.uid);
  }
  if (server === undefined && others.length > 1) throw duplicates(others, run.uid);
  if (server === undefined && others.length === 1) {
    server = others[0]!;
    run.setServerID(server.id);
    // A server this process created shows up here when the status write
    // after the create failed or the cache has not seen it yet: no news.
    if (memory.createdServerID !== server.id) {
      run.event(
        'Normal',
        'Adopted',
        'ObserveServer',
        `adopted server ${server.id}, which carries this instance's tag but was not recorded in status`,
      );
    }
  }

  return { list, snapshot, server, leaving };
}

/** Returns the server, or undefined when Nova returns 404; other errors are thrown. */
export async function getServerIfExists(
  client: OpenStackClient,
  id: string,
): Promise<Server | undefined> {
  try {
    return await client.compute.getServer(id);
  } catch (err) {
    if (err instanceof OpenStackError && err.errorClass === 'notFound') return undefined;
    throw err;
  }
}

function duplicates(servers: readonly Server[], uid: string) {
  const ids = servers.map((server) => server.id).sort();
  return stalled(
    'DuplicateServers',
    `${ids.length} servers carry this instance's tag cinst-${uid}: ${ids.join(', ')}; the operator acts on none of them. Delete all but one with "openstack server delete", and the operator adopts the one left`,
  );
}
