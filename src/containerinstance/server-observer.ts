/**
 * The bulk server observer: one paginated `servers/detail` listing, filtered
 * by the operator's managed tag, per cloud and project, shared by every
 * reconcile. Reconciles read its snapshot instead of sending a GET per
 * instance.
 */
import { MANAGED_TAG, instanceTag } from '../api/index.js';
import type { Logger } from '../observability/logger.js';
import { OpenStackError, type OpenStackClient, type Server } from '../openstack/index.js';
import { transient } from './failures.js';
import { Snapshot, type ServerSnapshot } from './server-snapshot.js';

/**
 * How servers are observed. `bulk` sends one listing per cloud and project
 * for all instances. `per-instance` sends one listing filtered by the
 * instance tag per instance and poll, as operators that GET each server do.
 * That mode exists to compare the two, e.g. in the benchmarks.
 */
export type ServerObserverMode = 'bulk' | 'per-instance';

/** All values of {@link ServerObserverMode}. */
export const SERVER_OBSERVER_MODES: readonly ServerObserverMode[] = ['bulk', 'per-instance'];

/** Settings of a {@link ServerObserver}; durations in milliseconds. */
export interface ServerObserverOptions {
  /** Listing interval while any server is transitional, after the operator's own writes, and after a failed listing. */
  activeIntervalMs: number;
  /** Listing interval while every server is settled. */
  idleIntervalMs: number;
  logger: Logger;
  /**
   * Receives the UIDs of instances whose servers appeared, changed or
   * disappeared between two listings. It must not throw.
   */
  onChange: (uids: string[]) => void;
  /**
   * A listing that no instance uses any more (see {@link ServerList.read})
   * and that no reconcile read for this long stops. @default 3 x idleIntervalMs
   */
  expireAfterMs?: number;
  /** Delay that gathers the refreshes requested by a burst of writes into one listing. @default 200 */
  refreshDelayMs?: number;
  /** @default 'bulk' */
  mode?: ServerObserverMode;
}

/**
 * Keeps one {@link ServerList} per cloud and project and stops those that
 * no instance uses any more. Call stop() on shutdown to clear every timer.
 */
export class ServerObserver {
  readonly #lists = new Map<string, ServerList>();
  readonly #options: Required<ServerObserverOptions>;
  #stopped = false;

  constructor(options: ServerObserverOptions) {
    if (!(options.activeIntervalMs > 0 && options.idleIntervalMs >= options.activeIntervalMs)) {
      throw new RangeError(
        `the observer needs 0 < activeIntervalMs <= idleIntervalMs. Received: ${options.activeIntervalMs}, ${options.idleIntervalMs}`,
      );
    }
    this.#options = {
      expireAfterMs: options.idleIntervalMs * 3,
      refreshDelayMs: 200,
      mode: 'bulk',
      ...options,
    };
  }

  /**
   * Returns the listing of the cloud and project that `scope` names (in
   * per-instance mode, of the instance with this UID), creating it on first
   * use. `client` is used for the next listings, so a rotated credential
   * takes effect at once.
   */
  list(scope: string, client: OpenStackClient, uid: string): ServerList {
    const perInstance = this.#options.mode === 'per-instance';
    const key = perInstance ? `${scope}\u0000${uid}` : scope;
    let list = this.#lists.get(key);
    if (list === undefined || list.stopped) {
      if (this.#stopped) throw new Error('the server observer is stopped');
      const tags = perInstance ? [instanceTag(uid)] : [MANAGED_TAG];
      list = new ServerList(scope, tags, client, this.#options, () => this.#lists.delete(key));
      this.#lists.set(key, list);
    }
    list.use(client);
    return list;
  }

  /** Records that the instance with this UID no longer uses any listing, e.g. because it was deleted. */
  release(uid: string): void {
    for (const list of this.#lists.values()) list.release(uid);
  }

  /** Number of listings kept. */
  get size(): number {
    return this.#lists.size;
  }

  /** Stops every listing; later calls to list() throw. */
  stop(): void {
    this.#stopped = true;
    for (const list of this.#lists.values()) list.stop();
    this.#lists.clear();
  }
}

/** The managed servers of one cloud and project, listed in the background on an adaptive interval. */
export class ServerList {
  readonly #scope: string;
  /** Tags every listed server carries: the managed tag, or one instance's tag. */
  readonly #tags: string[];
  readonly #options: Required<ServerObserverOptions>;
  readonly #logger: Logger;
  readonly #onExpire: () => void;
  #client: OpenStackClient;
  #snapshot: Snapshot | undefined;
  #lastError: { error: unknown; at: number; failures: number } | undefined;
  #inflight: { promise: Promise<void>; startedAt: number } | undefined;
  #following: Promise<void> | undefined;
  #timer: { handle: NodeJS.Timeout; dueAt: number } | undefined;
  #activeUntil = 0;
  #lastReadAt = Date.now();
  #stopped = false;
  /** UIDs of the instances whose servers this listing reports; it keeps listing while any remains. */
  readonly #users = new Set<string>();

  constructor(
    scope: string,
    tags: string[],
    client: OpenStackClient,
    options: Required<ServerObserverOptions>,
    onExpire: () => void,
  ) {
    this.#scope = scope;
    this.#tags = tags;
    this.#client = client;
    this.#options = options;
    this.#onExpire = onExpire;
    this.#logger = options.logger.child({ component: 'server-observer', cloud: client.cloudName });
  }

  /** Whether the listing stopped, by stop() or after no reconcile read it for the expiry time. */
  get stopped(): boolean {
    return this.#stopped;
  }

  /** Records a reader and the client to list with. */
  use(client: OpenStackClient): void {
    this.#client = client;
    this.#lastReadAt = Date.now();
  }

  /**
   * Returns a snapshot from a listing that started at `notBefore` or later,
   * listing now when the kept one is older. A failed listing is not
   * absence: while the latest listing failed this throws a transient
   * failure instead of returning an older snapshot. `uid` registers the
   * instance as a user, so the listing goes on (and reports its changes)
   * until release(uid), even when no reconcile reads for a long time.
   */
  async read(notBefore = 0, uid?: string): Promise<ServerSnapshot> {
    this.#lastReadAt = Date.now();
    if (uid !== undefined) this.#users.add(uid);
    for (let attempt = 0; attempt < 3; attempt += 1) {
      if (this.#lastError !== undefined && this.#inflight === undefined) {
        throw this.#failure(this.#lastError.error);
      }
      const snapshot = this.#snapshot;
      if (
        snapshot !== undefined &&
        snapshot.listedAt >= notBefore &&
        this.#lastError === undefined
      ) {
        return snapshot;
      }
      try {
        await this.#listingStartedAfter(notBefore);
      } catch (err) {
        throw this.#failure(err);
      }
    }
    throw transient(
      'ObserveFailed',
      `no server listing of cloud "${this.#client.cloudName}" completed after the latest write; retrying`,
    );
  }

  /**
   * Lists again soon, because the operator just changed a server, and keeps
   * the short interval for a few more listings. Most writes put the server
   * in a transitional state, which keeps the short interval by itself, but
   * some take effect in Nova a moment after the call returns.
   */
  refreshSoon(): void {
    if (this.#stopped) return;
    this.#activeUntil = Date.now() + ACTIVE_LISTINGS_AFTER_WRITE * this.#options.activeIntervalMs;
    this.#schedule(this.#options.refreshDelayMs);
  }

  /** Removes an instance from the users of this listing. */
  release(uid: string): void {
    this.#users.delete(uid);
  }

  /** Stops listing and clears the timer. */
  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer.handle);
    this.#timer = undefined;
  }

  /** Resolves once a listing that started at or after `notBefore` finished; rejects when it failed. */
  #listingStartedAfter(notBefore: number): Promise<void> {
    const inflight = this.#inflight;
    if (inflight === undefined) return this.#startListing();
    if (inflight.startedAt >= notBefore) return inflight.promise;
    // A write happened after the running listing started, so it may miss it:
    // queue one more listing after it (shared by every reader in the same spot).
    this.#following ??= inflight.promise
      .catch(() => undefined)
      .then(() => {
        this.#following = undefined;
        return this.#listingStartedAfter(notBefore);
      });
    return this.#following;
  }

  #startListing(): Promise<void> {
    const startedAt = Date.now();
    const promise = this.#listOnce(startedAt).finally(() => {
      this.#inflight = undefined;
      this.#scheduleNext();
    });
    this.#inflight = { promise, startedAt };
    return promise;
  }

  async #listOnce(startedAt: number): Promise<void> {
    let servers: Server[];
    try {
      servers = await this.#client.compute.listServers({ tags: this.#tags });
    } catch (err) {
      const failures = (this.#lastError?.failures ?? 0) + 1;
      this.#lastError = { error: err, at: startedAt, failures };
      const fields = { scope: this.#scope, failures, err: describe(err) };
      if (failures === 1) this.#logger.warn(fields, 'listing servers failed; retrying');
      else this.#logger.debug(fields, 'listing servers failed again');
      throw err;
    }

    const previous = this.#snapshot;
    await this.#fillFaults(servers, previous);
    const next = new Snapshot(servers, startedAt);
    const recovered = this.#lastError !== undefined;
    this.#snapshot = next;
    this.#lastError = undefined;
    if (recovered) this.#logger.info({ servers: next.size }, 'listing servers works again');
    this.#logger.debug({ servers: next.size, transitional: next.transitional }, 'servers listed');

    // The reconciles that waited for the first listing read it themselves.
    // Later listings wake the instances whose servers changed. A listing
    // after a failed one wakes every instance, because their reconciles
    // failed meanwhile.
    if (previous === undefined) return;
    const changed = recovered ? next.allUids(previous) : next.changedUids(previous);
    if (changed.length > 0) this.#options.onChange(changed);
  }

  /**
   * Adds the fault to servers in ERROR. Nova leaves `fault` out of
   * servers/detail (it is in GET /servers/{id} only), so a server that
   * entered ERROR, or changed while in it, is read once; unchanged ones
   * keep the fault of the previous listing. A failed read leaves the fault
   * out until the next listing.
   */
  async #fillFaults(servers: Server[], previous: Snapshot | undefined): Promise<void> {
    const missing = servers.filter(
      (server) => server.status === 'ERROR' && server.fault === undefined,
    );
    for (let index = 0; index < missing.length; index += FAULT_READS_AT_ONCE) {
      await Promise.all(
        missing.slice(index, index + FAULT_READS_AT_ONCE).map(async (server) => {
          const known = previous?.server(server.id);
          if (known?.fault !== undefined && known.updated === server.updated) {
            server.fault = known.fault;
            return;
          }
          try {
            const fault = (await this.#client.compute.getServer(server.id)).fault;
            if (fault !== undefined) server.fault = fault;
          } catch (err) {
            this.#logger.debug(
              { serverID: server.id, err: describe(err) },
              'reading the fault of a server in ERROR failed',
            );
          }
        }),
      );
    }
  }

  #scheduleNext(): void {
    if (this.#stopped) return;
    if (this.#users.size === 0 && Date.now() - this.#lastReadAt > this.#options.expireAfterMs) {
      this.#logger.info(
        { scope: this.#scope },
        'no instance uses this server listing any more; stopping it',
      );
      this.stop();
      this.#onExpire();
      return;
    }
    const active =
      this.#lastError !== undefined ||
      this.#snapshot?.transitional === true ||
      Date.now() < this.#activeUntil;
    this.#schedule(active ? this.#options.activeIntervalMs : this.#options.idleIntervalMs);
  }

  /** Sets the timer to fire in delayMs, unless it already fires sooner. */
  #schedule(delayMs: number): void {
    if (this.#stopped) return;
    const dueAt = Date.now() + delayMs;
    if (this.#timer !== undefined) {
      if (this.#timer.dueAt <= dueAt) return;
      clearTimeout(this.#timer.handle);
    }
    const handle = setTimeout(() => {
      this.#timer = undefined;
      if (this.#inflight !== undefined) {
        // The running listing reschedules when it ends.
        return;
      }
      this.#startListing().catch(() => undefined);
    }, delayMs);
    handle.unref();
    this.#timer = { handle, dueAt };
  }

  #failure(err: unknown) {
    return transient(
      'ObserveFailed',
      `listing the servers of cloud "${this.#client.cloudName}" failed, so their state is unknown: ${describe(err)}; retrying`,
      err,
    );
  }
}

/** Listings at the short interval after the operator's own write, besides the first one. */
const ACTIVE_LISTINGS_AFTER_WRITE = 3;

/** GETs of servers in ERROR sent at once by one listing. */
const FAULT_READS_AT_ONCE = 4;

function describe(err: unknown): string {
  if (err instanceof OpenStackError) return err.message;
  return err instanceof Error ? err.message : String(err);
}
