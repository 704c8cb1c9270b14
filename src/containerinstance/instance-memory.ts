/**
 * What the reconciler remembers about each instance between reconciles. It
 * is lost on restart, so everything here is a hint or an optimization, and
 * the durable facts live in the status and in the server tags.
 */
import type { ResolvedCloud } from './cloud.js';

/** Per-instance memory, keyed by metadata.uid. */
export interface InstanceMemory {
  /** Work queue key, `namespace/name`, so observer notifications can find the instance. */
  key: string;
  /**
   * Time of the operator's last write to this instance's servers, in
   * milliseconds since the epoch. A listing that started earlier may miss
   * that write, so absence is trusted only in later listings.
   */
  lastWriteAt: number;
  /** The cloud of the last reconcile, to delete the server after its Secret is gone. */
  cloud?: ResolvedCloud;
  /** Server ID and time the operator first saw the current server in ERROR. */
  erroredServer?: { id: string; since: number };
  /** Servers replaced in a row because they stayed in ERROR; the next grace period doubles with each. */
  errorRecreates: number;
  /** Fault last reported in an Event, so the Event is recorded once per fault. */
  reportedFault?: string;
  /** ID of the last server this process created, so finding it in a listing is no adoption. */
  createdServerID?: string;
  /** Servers this process deleted, so their disappearance is not reported as out of band. */
  ownDeletes: Set<string>;
}

/** Per-instance memory with a reverse index from work queue key to UID. */
export class InstanceMemories {
  readonly #byUid = new Map<string, InstanceMemory>();
  readonly #uidByKey = new Map<string, string>();

  /** Returns the memory of an instance, creating it on first use. */
  get(uid: string, key: string): InstanceMemory {
    let memory = this.#byUid.get(uid);
    if (memory === undefined) {
      memory = { key, lastWriteAt: 0, errorRecreates: 0, ownDeletes: new Set() };
      this.#byUid.set(uid, memory);
    }
    // A deleted object recreated under the same name gets a new UID.
    const previous = this.#uidByKey.get(key);
    if (previous !== undefined && previous !== uid) this.#byUid.delete(previous);
    this.#uidByKey.set(key, uid);
    memory.key = key;
    return memory;
  }

  /** Returns the work queue key of an instance UID, or undefined when this process never reconciled it. */
  keyOf(uid: string): string | undefined {
    return this.#byUid.get(uid)?.key;
  }

  /** Forgets the instance with this key; returns its UID, if known. */
  forgetKey(key: string): string | undefined {
    const uid = this.#uidByKey.get(key);
    this.#uidByKey.delete(key);
    if (uid !== undefined) this.#byUid.delete(uid);
    return uid;
  }
}
