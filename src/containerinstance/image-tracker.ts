/**
 * Image publishes in the background, one per instance, so that a reconcile
 * never waits for a pull or an upload: it starts the publish, reports its
 * progress, and is queued again when the publish ends.
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

interface Entry {
  /** Identity of the request: cloud, reference, command and pull Secret versions. */
  key: string;
  startedAt: number;
  progress?: PublishProgress;
  image?: PublishedImage;
  error?: unknown;
  settled: boolean;
}

/** Settings of an {@link ImageTracker}. */
export interface ImageTrackerOptions {
  /** Called with the instance UID when its publish succeeds or fails; it must not throw. */
  onSettled: (uid: string) => void;
  logger: Logger;
}

/**
 * Keeps one publish per instance UID. A finished image is reused for as
 * long as the request key stays the same, so a tag is resolved again only
 * when the spec, the pull Secrets or the cloud change, or after a restart.
 */
export class ImageTracker {
  readonly #entries = new Map<string, Entry>();
  readonly #options: ImageTrackerOptions;

  constructor(options: ImageTrackerOptions) {
    this.#options = options;
  }

  /**
   * Returns the published image for the request key, or the progress of the
   * publish, starting it when none runs for this key. A failed publish is
   * thrown once and then forgotten, so the next call (after the caller's
   * backoff) starts over.
   */
  ensure(uid: string, key: string, start: StartPublish): ImageState {
    const entry = this.#entries.get(uid);
    if (entry !== undefined && entry.key === key) {
      if (entry.image !== undefined) return { state: 'ready', image: entry.image };
      if (entry.settled) {
        this.#entries.delete(uid);
        throw entry.error;
      }
      return { state: 'publishing', progress: entry.progress, startedAt: entry.startedAt };
    }

    const next: Entry = { key, startedAt: Date.now(), settled: false };
    this.#entries.set(uid, next);
    let promise: Promise<PublishedImage>;
    try {
      promise = start((progress) => {
        next.progress = progress;
      });
    } catch (err) {
      this.#entries.delete(uid);
      throw err;
    }
    promise.then(
      (image) => this.#settle(uid, next, image, undefined),
      (err: unknown) => this.#settle(uid, next, undefined, err),
    );
    return { state: 'publishing', progress: undefined, startedAt: next.startedAt };
  }

  /** Returns the image last published for the instance, whatever its key, or undefined. */
  current(uid: string): PublishedImage | undefined {
    return this.#entries.get(uid)?.image;
  }

  /** Forgets the instance; a publish still running finishes but is not reported. */
  forget(uid: string): void {
    this.#entries.delete(uid);
  }

  #settle(uid: string, entry: Entry, image: PublishedImage | undefined, error: unknown): void {
    entry.settled = true;
    if (image !== undefined) entry.image = image;
    else entry.error = error;
    // A newer request replaced this one meanwhile: its result is not wanted.
    if (this.#entries.get(uid) !== entry) return;
    this.#options.logger.debug({ uid, published: image !== undefined }, 'image publish finished');
    this.#options.onSettled(uid);
  }
}
