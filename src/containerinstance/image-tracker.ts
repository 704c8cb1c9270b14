/**
 * Image publishes in the background, so that a reconcile never waits for a
 * pull or an upload: it starts the publish, reports its progress, and is
 * queued again when the publish ends. Instances with the same cloud, image,
 * command and pull Secrets share one publish.
 */
import type { Logger } from '../observability/logger.js';

/** Progress of a publish, as the image publisher reports it. */
export interface PublishProgress {
  /** `checking`, `queued`, `pulling`, `uploading` or `done`. */
  phase: string;
  bytesDownloaded: number;
  bytesUploaded: number;
  imageSizeBytes?: number | undefined;
}

/** A bootable Glance image for an instance's image and command. */
export interface PublishedImage {
  glanceID: string;
  /** Registry manifest digest, `sha256:...`. */
  digest: string;
}

/** Starts one publish; `onProgress` receives updates until the promise settles. */
export type StartPublish = (
  onProgress: (progress: PublishProgress) => void,
) => Promise<PublishedImage>;

/** Result of {@link ImageTracker.ensure}. */
export type ImageState =
  | { state: 'ready'; image: PublishedImage }
  | { state: 'publishing'; progress: PublishProgress | undefined; startedAt: number };

/** One publish, shared by every instance that requested its key while it ran or shortly after. */
interface Flight {
  /** Identity of the request: cloud, reference, command and pull Secrets. */
  key: string;
  startedAt: number;
  progress?: PublishProgress;
  image?: PublishedImage;
  error?: unknown;
  /** performance.now() when the publish ended, or undefined while it runs. */
  settledAt?: number;
  /** Instances to queue again when the publish ends. */
  waiters: Set<string>;
}

/**
 * How long a finished publish is handed to other instances with the same
 * key without resolving the tag again: long enough to cover a wave of
 * instances applied together, short enough that a moved tag is seen soon.
 */
export const defaultShareWindowMs = 60_000;

/** Settings of an {@link ImageTracker}. */
export interface ImageTrackerOptions {
  /** Called with the instance UID when its publish succeeds or fails; it must not throw. */
  onSettled: (uid: string) => void;
  logger: Logger;
  /** See {@link defaultShareWindowMs}. */
  shareWindowMs?: number;
}

/**
 * Keeps one publish per request key and remembers which one each instance
 * UID uses. A finished image stays with an instance for as long as its key
 * stays the same, so the tag is resolved again only when the spec, the pull
 * Secrets or the cloud change, or after a restart. Another instance with
 * the same key joins a running publish, or takes a successful one that
 * ended within the share window, so a fleet of instances with one image
 * costs one registry lookup and one Glance lookup.
 */
export class ImageTracker {
  /** The flight each instance uses. */
  readonly #byInstance = new Map<string, Flight>();
  /** Flights other instances may join: running, or succeeded within the share window. */
  readonly #byKey = new Map<string, Flight>();
  readonly #options: ImageTrackerOptions;
  readonly #shareWindowMs: number;

  constructor(options: ImageTrackerOptions) {
    this.#options = options;
    this.#shareWindowMs = options.shareWindowMs ?? defaultShareWindowMs;
  }

  /**
   * Returns the published image for the request key, or the progress of the
   * publish, joining or starting one when the instance has none for this
   * key. A failed publish is thrown once to each instance that waited for
   * it and then forgotten, so the next call (after the caller's backoff)
   * starts over.
   */
  ensure(uid: string, key: string, start: StartPublish): ImageState {
    const own = this.#byInstance.get(uid);
    if (own !== undefined && own.key === key) {
      if (own.image !== undefined) return { state: 'ready', image: own.image };
      if (own.settledAt !== undefined) {
        this.#byInstance.delete(uid);
        throw own.error;
      }
      return { state: 'publishing', progress: own.progress, startedAt: own.startedAt };
    }
    if (own !== undefined) own.waiters.delete(uid);

    const shared = this.#shareable(key);
    if (shared !== undefined) {
      this.#byInstance.set(uid, shared);
      if (shared.image !== undefined) return { state: 'ready', image: shared.image };
      shared.waiters.add(uid);
      return { state: 'publishing', progress: shared.progress, startedAt: shared.startedAt };
    }

    const flight: Flight = { key, startedAt: Date.now(), waiters: new Set([uid]) };
    let promise: Promise<PublishedImage>;
    try {
      promise = start((progress) => {
        flight.progress = progress;
      });
    } catch (err) {
      this.#byInstance.delete(uid);
      throw err;
    }
    this.#byInstance.set(uid, flight);
    this.#byKey.set(key, flight);
    promise.then(
      (image) => this.#settle(flight, image, undefined),
      (err: unknown) => this.#settle(flight, undefined, err),
    );
    return { state: 'publishing', progress: undefined, startedAt: flight.startedAt };
  }

  /** Returns the image last published for the instance, whatever its key, or undefined. */
  current(uid: string): PublishedImage | undefined {
    return this.#byInstance.get(uid)?.image;
  }

  /** Forgets the instance; a publish still running finishes but is not reported to it. */
  forget(uid: string): void {
    this.#byInstance.get(uid)?.waiters.delete(uid);
    this.#byInstance.delete(uid);
  }

  /** Returns the flight for the key that a new instance may use, dropping an expired one. */
  #shareable(key: string): Flight | undefined {
    const flight = this.#byKey.get(key);
    if (flight === undefined) return undefined;
    if (flight.settledAt === undefined) return flight;
    if (performance.now() - flight.settledAt < this.#shareWindowMs) return flight;
    this.#byKey.delete(key);
    return undefined;
  }

  #settle(flight: Flight, image: PublishedImage | undefined, error: unknown): void {
    flight.settledAt = performance.now();
    if (image !== undefined) flight.image = image;
    else flight.error = error;
    if (image === undefined && this.#byKey.get(flight.key) === flight)
      this.#byKey.delete(flight.key);
    this.#sweep();

    // Instances that moved to another key meanwhile left the waiters.
    const waiters = [...flight.waiters];
    flight.waiters.clear();
    this.#options.logger.debug(
      { waiters: waiters.length, published: image !== undefined },
      'image publish finished',
    );
    for (const uid of waiters) this.#options.onSettled(uid);
  }

  /** Drops shared flights past the share window, so that keys no instance requests again do not accumulate. */
  #sweep(): void {
    const now = performance.now();
    for (const [key, flight] of this.#byKey) {
      if (flight.settledAt !== undefined && now - flight.settledAt >= this.#shareWindowMs) {
        this.#byKey.delete(key);
      }
    }
  }
}
