/**
 * One server listing, indexed by server ID and by instance UID, with the
 * fingerprints that tell which instances changed between two listings.
 */
import { createHash } from 'node:crypto';

import { INSTANCE_TAG_PREFIX } from '../api/index.js';
import type { Server } from '../openstack/index.js';
import { isTransitional } from './server-state.js';

/** The servers of one cloud and project as one listing returned them. */
export interface ServerSnapshot {
  /** Time the listing started, in milliseconds since the epoch; later writes are not in it. */
  readonly listedAt: number;
  /** Number of managed servers in the listing. */
  readonly size: number;
  /** Returns the servers tagged `cinst-<uid>`, gone ones included, ordered by ID. */
  serversOf(uid: string): readonly Server[];
  /** Returns the managed server with this ID, or undefined when the listing does not hold it. */
  server(id: string): Server | undefined;
}

/** One listing, indexed by server ID and by instance UID. */
export class Snapshot implements ServerSnapshot {
  readonly listedAt: number;
  readonly transitional: boolean;
  readonly #byId = new Map<string, Server>();
  readonly #byUid = new Map<string, Server[]>();
  #fingerprints: Map<string, string> | undefined;

  constructor(servers: readonly Server[], listedAt: number) {
    this.listedAt = listedAt;
    const sorted = [...servers].sort((a, b) => a.id.localeCompare(b.id));
    for (const server of sorted) {
      this.#byId.set(server.id, server);
      for (const uid of instanceUids(server)) {
        const list = this.#byUid.get(uid);
        if (list === undefined) this.#byUid.set(uid, [server]);
        else list.push(server);
      }
    }
    this.transitional = sorted.some(isTransitional);
  }

  get size(): number {
    return this.#byId.size;
  }

  serversOf(uid: string): readonly Server[] {
    return this.#byUid.get(uid) ?? [];
  }

  server(id: string): Server | undefined {
    return this.#byId.get(id);
  }

  /** Returns the UIDs whose servers differ from those in `previous`, in either direction. */
  changedUids(previous: Snapshot): string[] {
    const mine = this.fingerprints();
    const theirs = previous.fingerprints();
    const changed = new Set<string>();
    for (const [uid, fingerprint] of mine) if (theirs.get(uid) !== fingerprint) changed.add(uid);
    for (const uid of theirs.keys()) if (!mine.has(uid)) changed.add(uid);
    return [...changed];
  }

  /** Returns every UID in this snapshot or in `previous`. */
  allUids(previous: Snapshot): string[] {
    return [...new Set([...this.#byUid.keys(), ...previous.#byUid.keys()])];
  }

  /** Returns the fingerprint of the servers of each UID, computed once. */
  fingerprints(): Map<string, string> {
    this.#fingerprints ??= new Map(
      [...this.#byUid].map(([uid, servers]) => [uid, serversFingerprint(servers)]),
    );
    return this.#fingerprints;
  }
}

/** Returns the UIDs named by a server's `cinst-<uid>` tags; the placement tag is not one. */
function instanceUids(server: Server): string[] {
  return server.tags
    .filter((tag) => tag.startsWith(INSTANCE_TAG_PREFIX))
    .map((tag) => tag.slice(INSTANCE_TAG_PREFIX.length))
    .filter((uid) => UID_PATTERN.test(uid));
}

const UID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Hashes the fields a reconcile acts on. Metadata contains environment values,
 * some read from Secrets, so only its hash is kept for comparison.
 */
function serversFingerprint(servers: readonly Server[]): string {
  const hash = createHash('sha256');
  for (const server of servers) {
    hash.update(
      JSON.stringify([
        server.id,
        server.status,
        server.taskState ?? null,
        server.powerState ?? null,
        server.imageId ?? null,
        server.updated ?? null,
        [...server.tags].sort(),
        Object.entries(server.metadata).sort(([a], [b]) => a.localeCompare(b)),
        server.addresses.map((address) => `${address.network}/${address.ip}`),
        server.fault?.code ?? null,
        server.fault?.message ?? null,
      ]),
    );
  }
  return hash.digest('hex');
}
