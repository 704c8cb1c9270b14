import type Docker from 'dockerode';
import PQueue from 'p-queue';

import type { Logger } from '../observability/logger.js';
import type { OperatorMetrics } from '../observability/metrics.js';
import { formatCommandLine, maxPropertyLength } from './command-line.js';
import { credentialsForImage, type PullSecret } from './credentials.js';
import { errorMessage, ImagePublishError, type ImagePublishReason } from './errors.js';
import {
  collectUnusedImages,
  defaultGracePeriodMs,
  type GarbageCollectionOptions,
  type GarbageCollectionResult,
} from './gc.js';
import type { Image } from '../openstack/index.js';
import {
  glanceErrorStatus,
  imageProperty,
  isGlanceNotFound,
  isGlanceQuotaError,
  type GlanceImages,
} from './glance.js';
import { ImagePublisherMetrics } from './metrics.js';
import { pullImage } from './pull.js';
import {
  canonicalName,
  formatImageReference,
  loadedImageName,
  localTag,
  parseImageReference,
  type ImageReference,
} from './reference.js';
import { RegistryClient, type ResolvedImage } from './registry.js';
import { streamImageToGlance } from './upload.js';

/** Options of {@link ImagePublisher}. */
export interface ImagePublisherOptions {
  /** Docker Engine that pulls and saves images. */
  docker: Docker;
  glance: GlanceImages;
  logger: Logger;
  /** Pulls plus uploads running at once; more publishes wait their turn. @default 2 */
  maxConcurrentUploads?: number;
  /** Registries reachable over plain HTTP besides loopback ones, as `host` or `host:port`. @default [] */
  insecureRegistries?: readonly string[];
  /** Timeout of each registry API request, in milliseconds. @default 30000 */
  registryTimeoutMs?: number;
  /**
   * The operator's metrics: the publisher adds its counters to that registry
   * and counts uploaded bytes in `novadocker_image_upload_bytes_total`.
   * @default metrics on a private registry, bytes not counted
   */
  metrics?: Pick<OperatorMetrics, 'registry' | 'countImageBytesUploaded'>;
  /** Remove the pulled image from the Docker Engine after the upload. @default true */
  pruneLocalImages?: boolean;
  /** Time garbage collection keeps an unused managed image after its last use, in milliseconds. @default 86400000 (24 h) */
  gcGracePeriodMs?: number;
  /** Minimum time between two progress callbacks of one publish, in milliseconds. @default 1000 */
  progressIntervalMs?: number;
}

/** One image publish request, typically from a ContainerInstance spec. */
export interface PublishRequest {
  /** Image reference as written in the spec, e.g. `nginx:1.27` or `reg:5000/team/app@sha256:...`. */
  reference: string;
  /** Container command; becomes `os_command_line`. A string is used as it is. */
  command?: string | readonly string[];
  /** `kubernetes.io/dockerconfigjson` Secrets to take registry credentials from, in priority order. */
  pullSecrets?: readonly PullSecret[];
  /**
   * Receives the current progress when the request joins, on every phase
   * change, and while bytes move at most once per progressIntervalMs.
   */
  onProgress?: (progress: PublishProgress) => void;
}

/** The state of a publish, for the reconciler to show in a condition message. */
export interface PublishProgress {
  reference: string;
  digest: string;
  /** `checking` Glance, `queued` behind other uploads, `pulling`, `uploading`, or `done`. */
  phase: 'checking' | 'queued' | 'pulling' | 'uploading' | 'done';
  bytesDownloaded: number;
  bytesUploaded: number;
  /** Size Docker reports for the image; the archive is slightly larger. */
  imageSizeBytes: number | undefined;
}

/** A bootable Glance image for a request. */
export interface PublishedImage {
  glanceID: string;
  /** Glance image name, equal to the name `docker load` gives the image data. */
  name: string;
  digest: string;
  /** True when an existing image was returned without pulling or uploading. */
  reused: boolean;
  sizeBytes: number | undefined;
}

/** A publish in progress that later requests for the same digest and command join. */
interface FlightState {
  listeners: Set<(progress: PublishProgress) => void>;
  progress: PublishProgress;
  lastEmitted: number;
}

interface Flight extends FlightState {
  promise: Promise<PublishedImage>;
}

interface FlightPlan {
  ref: ImageReference;
  source: string;
  resolved: ResolvedImage;
  commandLine: string | undefined;
}

/**
 * Publishes registry images into Glance for Nova-Docker. For each request it
 * resolves the reference to a digest, returns an active operator-owned image
 * with that digest and command if one exists, and otherwise pulls the image,
 * streams `docker save` into a new Glance image and returns that. Requests
 * for the same digest and command share one publish; at most
 * `maxConcurrentUploads` publishes transfer data at once. Failures throw an
 * {@link ImagePublishError}; partial Glance images are deleted first. The
 * publisher never retries: the caller's backoff does.
 */
export class ImagePublisher {
  readonly metrics: ImagePublisherMetrics;
  private readonly docker: Docker;
  private readonly glance: GlanceImages;
  private readonly logger: Logger;
  private readonly registry: RegistryClient;
  private readonly transfers: PQueue;
  private readonly countUploadedBytes: (bytes: number) => void;
  private readonly pruneLocalImages: boolean;
  private readonly gcGracePeriodMs: number;
  private readonly lastUsedRefreshMs: number;
  private readonly progressIntervalMs: number;
  private readonly flights = new Map<string, Flight>();
  private readonly busyDigests = new Map<string, number>();
  /** Image IDs handed out recently, so a concurrent garbage collection skips them. */
  private readonly handedOut = new Map<string, number>();

  constructor(options: ImagePublisherOptions) {
    const maxConcurrentUploads = options.maxConcurrentUploads ?? 2;
    if (!Number.isInteger(maxConcurrentUploads) || maxConcurrentUploads < 1) {
      throw new RangeError(
        `maxConcurrentUploads must be a positive integer. Received: ${maxConcurrentUploads}`,
      );
    }
    this.docker = options.docker;
    this.glance = options.glance;
    this.logger = options.logger;
    this.registry = new RegistryClient({
      insecureRegistries: options.insecureRegistries ?? [],
      requestTimeoutMs: options.registryTimeoutMs ?? 30_000,
      logger: options.logger,
    });
    this.transfers = new PQueue({ concurrency: maxConcurrentUploads });
    this.metrics = new ImagePublisherMetrics(options.metrics?.registry);
    this.countUploadedBytes = (bytes) => options.metrics?.countImageBytesUploaded(bytes);
    this.pruneLocalImages = options.pruneLocalImages ?? true;
    this.gcGracePeriodMs = options.gcGracePeriodMs ?? defaultGracePeriodMs;
    if (!(this.gcGracePeriodMs > 0)) {
      throw new RangeError(
        `gcGracePeriodMs must be a positive number of milliseconds. Received: ${this.gcGracePeriodMs}`,
      );
    }
    // Writing last-used on every reuse would cost a PATCH per reconcile. A
    // quarter of the grace period, at most an hour, keeps it cheap and safe.
    this.lastUsedRefreshMs = Math.min(60 * 60 * 1000, this.gcGracePeriodMs / 4);
    this.progressIntervalMs = options.progressIntervalMs ?? 1000;
  }

  /**
   * Makes sure a bootable Glance image exists for the request and returns it.
   * Concurrent calls for the same digest and command wait for one shared
   * publish. Throws an {@link ImagePublishError} whose `reason` and
   * `transient` tell the caller whether to back off or wait for a spec change.
   */
  async publish(request: PublishRequest): Promise<PublishedImage> {
    const startedAt = performance.now();
    let listener: ((progress: PublishProgress) => void) | undefined;
    let flight: Flight | undefined;
    try {
      const plan = await this.plan(request);
      const key = `${plan.resolved.digest}\u0000${plan.commandLine ?? ''}`;
      flight = this.flights.get(key) ?? this.startFlight(key, plan);
      listener = request.onProgress;
      if (listener !== undefined) {
        flight.listeners.add(listener);
        listener({ ...flight.progress });
      }

      const image = await flight.promise;
      const result = image.reused ? 'reused' : 'published';
      this.metrics.publishes.inc({ result, reason: '' });
      this.metrics.publishDuration.observe({ result }, (performance.now() - startedAt) / 1000);
      return image;
    } catch (err) {
      const reason: ImagePublishReason =
        err instanceof ImagePublishError ? err.reason : 'uploadFailed';
      this.metrics.publishes.inc({ result: 'failed', reason });
      this.metrics.publishDuration.observe(
        { result: 'failed' },
        (performance.now() - startedAt) / 1000,
      );
      throw err;
    } finally {
      if (listener !== undefined) flight?.listeners.delete(listener);
    }
  }

  /**
   * Runs one garbage-collection pass over the managed images (see
   * {@link collectUnusedImages}); images of publishes running now are skipped.
   * Throws when Glance cannot list images.
   */
  async collectGarbage(
    options: Omit<GarbageCollectionOptions, 'gracePeriodMs'>,
  ): Promise<GarbageCollectionResult> {
    const passStarted = Date.now();
    try {
      return await collectUnusedImages(
        {
          glance: this.glance,
          logger: this.logger,
          isBusy: (image, digest) =>
            (digest !== undefined && this.busyDigests.has(digest)) ||
            (this.handedOut.get(image.id) ?? 0) >= passStarted,
          lastUsedRefreshMs: this.lastUsedRefreshMs,
          onDeleted: () => this.metrics.garbageCollected.inc(),
        },
        { ...options, gracePeriodMs: this.gcGracePeriodMs },
      );
    } finally {
      // Images handed out before this pass started had their last use recorded in Glance.
      for (const [id, handedOutAt] of this.handedOut) {
        if (handedOutAt < passStarted) this.handedOut.delete(id);
      }
    }
  }

  /** Resolves the request to a digest; everything before the shared flight starts. */
  private async plan(request: PublishRequest): Promise<FlightPlan> {
    const ref = parseImageReference(request.reference);
    const source = formatImageReference(ref);
    const commandLine = formatCommandLine(request.command, source);
    const credentials = credentialsForImage(ref, request.pullSecrets ?? []);
    const resolved = await this.registry.resolve(ref, credentials);
    return { ref, source, resolved, commandLine };
  }

  private startFlight(key: string, plan: FlightPlan): Flight {
    const state: FlightState = {
      listeners: new Set(),
      progress: {
        reference: plan.source,
        digest: plan.resolved.digest,
        phase: 'checking',
        bytesDownloaded: 0,
        bytesUploaded: 0,
        imageSizeBytes: undefined,
      },
      lastEmitted: 0,
    };
    this.markBusy(plan.resolved.digest, +1);
    const promise = this.runFlight(state, plan).finally(() => {
      this.flights.delete(key);
      this.markBusy(plan.resolved.digest, -1);
    });
    const flight: Flight = Object.assign(state, { promise });
    this.flights.set(key, flight);
    return flight;
  }

  private async runFlight(flight: FlightState, plan: FlightPlan): Promise<PublishedImage> {
    const { ref, resolved, commandLine, source } = plan;
    const log = this.logger.child({
      reference: source,
      digest: resolved.digest,
      registry: ref.registry,
    });

    const existing = await this.findReusable(resolved.digest, commandLine, source);
    if (existing !== undefined) {
      await this.recordUse(existing, log);
      this.handedOut.set(existing.id, Date.now());
      // Every reconcile of a running instance reuses its image, so this is debug.
      log.debug({ glanceID: existing.id, name: existing.name }, 'reusing published image');
      this.report(flight, { phase: 'done' }, true);
      return {
        glanceID: existing.id,
        name: existing.name,
        digest: resolved.digest,
        reused: true,
        sizeBytes: existing.size ?? undefined,
      };
    }

    this.report(flight, { phase: 'queued' }, true);
    const image = await this.transfers.add(() => this.transfer(flight, plan, log));
    this.handedOut.set(image.glanceID, Date.now());
    this.report(flight, { phase: 'done' }, true);
    return image;
  }

  /** Pulls, tags, creates the Glance image and streams the data; deletes the image on failure. */
  private async transfer(
    flight: FlightState,
    plan: FlightPlan,
    log: Logger,
  ): Promise<PublishedImage> {
    const { ref, resolved, commandLine, source } = plan;
    const name = loadedImageName(ref, resolved.digest);
    const localName = `${canonicalName(ref)}:${localTag(ref, resolved.digest)}`;
    this.metrics.uploadsInProgress.inc();
    const startedAt = performance.now();
    try {
      log.info({ name }, 'pulling image');
      this.report(flight, { phase: 'pulling' }, true);
      this.metrics.pulls.inc();
      const imageID = await pullImage(this.docker, ref, resolved.digest, {
        credential: resolved.credential,
        onDownloadedBytes: (bytes) => this.report(flight, { bytesDownloaded: bytes }),
      });
      await this.tagLocally(imageID, localName, source);
      const inspected = await this.docker.getImage(imageID).inspect();
      this.report(flight, { phase: 'uploading', imageSizeBytes: inspected.Size }, true);

      const glanceImage = await this.createGlanceImage(name, source, resolved.digest, commandLine);
      log.info(
        { glanceID: glanceImage.id, name, imageSizeBytes: inspected.Size },
        'uploading image to Glance',
      );
      this.metrics.uploads.inc();
      let sentBytes = 0;
      try {
        const bytes = await streamImageToGlance(this.docker, this.glance, {
          imageName: localName,
          glanceID: glanceImage.id,
          reference: source,
          onBytes: (sent) => {
            this.countUploadedBytes(sent - sentBytes);
            sentBytes = sent;
            this.report(flight, { bytesUploaded: sent });
          },
        });
        await this.verifyUpload(glanceImage.id, bytes, source);
      } catch (err) {
        await this.deletePartialImage(glanceImage.id, log);
        throw err;
      }

      const seconds = (performance.now() - startedAt) / 1000;
      log.info(
        { glanceID: glanceImage.id, name, bytes: sentBytes, seconds: Number(seconds.toFixed(3)) },
        'published image',
      );
      return {
        glanceID: glanceImage.id,
        name,
        digest: resolved.digest,
        reused: false,
        sizeBytes: sentBytes,
      };
    } catch (err) {
      log.warn(
        {
          err: errorMessage(err),
          reason: err instanceof ImagePublishError ? err.reason : undefined,
        },
        'image publish failed',
      );
      throw err;
    } finally {
      this.metrics.uploadsInProgress.dec();
      // Other flights may still save this digest under a different command.
      if (this.pruneLocalImages && (this.busyDigests.get(resolved.digest) ?? 0) <= 1) {
        await this.removeLocalImage([localName, `${canonicalName(ref)}@${resolved.digest}`], log);
      }
    }
  }

  /** Returns the oldest active operator-owned image with this digest and command, if any. */
  private async findReusable(
    digest: string,
    commandLine: string | undefined,
    source: string,
  ): Promise<Image | undefined> {
    let owner: string;
    let images: Image[];
    try {
      owner = await this.glance.projectID();
      images = await this.glance.listImages({
        properties: { [imageProperty.digest]: digest, [imageProperty.managed]: 'true' },
        status: 'active',
        owner,
      });
    } catch (err) {
      throw new ImagePublishError(
        'glanceUnavailable',
        `listing Glance images with digest ${digest} failed: ${errorMessage(err)}; retry later`,
        { reference: source, statusCode: glanceErrorStatus(err), cause: err },
      );
    }

    const matches = images.filter(
      (image) =>
        image.status === 'active' &&
        image.owner === owner &&
        image.properties[imageProperty.managed] === 'true' &&
        image.properties[imageProperty.digest] === digest &&
        image.containerFormat === 'docker' &&
        image.diskFormat === 'raw' &&
        image.properties[imageProperty.commandLine] === commandLine,
    );
    matches.sort(
      (a, b) => (a.createdAt ?? '').localeCompare(b.createdAt ?? '') || a.id.localeCompare(b.id),
    );
    return matches[0];
  }

  /** Writes `novadocker.io/last-used` when it is older than the refresh interval; failures only log. */
  private async recordUse(image: Image, log: Logger): Promise<void> {
    const recorded = Date.parse(image.properties[imageProperty.lastUsed] ?? '');
    if (!Number.isNaN(recorded) && Date.now() - recorded < this.lastUsedRefreshMs) return;
    try {
      await this.glance.setImageProperties(image.id, {
        [imageProperty.lastUsed]: new Date().toISOString(),
      });
    } catch (err) {
      log.warn(
        { glanceID: image.id, err: errorMessage(err) },
        'failed to record last use of image; garbage collection may see it as older',
      );
    }
  }

  private async createGlanceImage(
    name: string,
    source: string,
    digest: string,
    commandLine: string | undefined,
  ): Promise<Image> {
    const properties: Record<string, string> = {
      [imageProperty.hypervisorType]: 'docker',
      [imageProperty.digest]: digest,
      [imageProperty.source]: source.slice(0, maxPropertyLength),
      [imageProperty.managed]: 'true',
      [imageProperty.lastUsed]: new Date().toISOString(),
    };
    if (commandLine !== undefined) properties[imageProperty.commandLine] = commandLine;

    try {
      return await this.glance.createImage({
        name,
        containerFormat: 'docker',
        diskFormat: 'raw',
        visibility: 'private',
        properties,
      });
    } catch (err) {
      const quota = isGlanceQuotaError(err);
      throw new ImagePublishError(
        quota ? 'glanceFull' : 'glanceUnavailable',
        `creating Glance image ${name} failed: ${errorMessage(err)}; ` +
          (quota ? "free space in Glance or raise the project's image quota" : 'retry later'),
        { reference: source, statusCode: glanceErrorStatus(err), cause: err },
      );
    }
  }

  /** Checks that Glance stored the whole archive and made the image active. */
  private async verifyUpload(glanceID: string, bytes: number, source: string): Promise<void> {
    let stored: Image;
    try {
      stored = await this.glance.getImage(glanceID);
    } catch (err) {
      throw new ImagePublishError(
        'uploadFailed',
        `Glance image ${glanceID} could not be read back after the upload: ${errorMessage(err)}; retry later`,
        { reference: source, statusCode: glanceErrorStatus(err), cause: err },
      );
    }
    if (stored.status !== 'active' || (typeof stored.size === 'number' && stored.size !== bytes)) {
      throw new ImagePublishError(
        'uploadFailed',
        `Glance image ${glanceID} is ${stored.status} with size ${String(stored.size)} after an upload of ${bytes} bytes; ` +
          'expected active with the same size; retry later',
        { reference: source },
      );
    }
  }

  private async deletePartialImage(glanceID: string, log: Logger): Promise<void> {
    try {
      await this.glance.deleteImage(glanceID);
      log.info({ glanceID }, 'deleted partial image after a failed upload');
    } catch (err) {
      if (isGlanceNotFound(err)) return;
      // Garbage collection deletes it later: it is managed and never becomes active.
      log.error(
        { glanceID, err: errorMessage(err) },
        'failed to delete partial image; garbage collection will retry',
      );
    }
  }

  private async tagLocally(imageID: string, localName: string, source: string): Promise<void> {
    const colon = localName.lastIndexOf(':');
    try {
      await this.docker
        .getImage(imageID)
        .tag({ repo: localName.slice(0, colon), tag: localName.slice(colon + 1) });
    } catch (err) {
      throw new ImagePublishError(
        'pullFailed',
        `tagging pulled image ${imageID} as ${localName} failed: ${errorMessage(err)}; retry later`,
        {
          reference: source,
          cause: err,
        },
      );
    }
  }

  private async removeLocalImage(names: string[], log: Logger): Promise<void> {
    for (const name of names) {
      try {
        await this.docker.getImage(name).remove();
      } catch (err) {
        const status = (err as { statusCode?: number }).statusCode;
        if (status !== 404 && status !== 409)
          log.warn(
            { image: name, err: errorMessage(err) },
            'failed to remove local image after upload',
          );
      }
    }
  }

  private report(flight: FlightState, change: Partial<PublishProgress>, force = false): void {
    Object.assign(flight.progress, change);
    const now = Date.now();
    if (!force && now - flight.lastEmitted < this.progressIntervalMs) return;
    flight.lastEmitted = now;
    for (const listener of flight.listeners) {
      try {
        listener({ ...flight.progress });
      } catch (err) {
        this.logger.warn(
          { err: errorMessage(err) },
          'image publish progress callback threw; ignoring it',
        );
      }
    }
  }

  private markBusy(digest: string, delta: number): void {
    const count = (this.busyDigests.get(digest) ?? 0) + delta;
    if (count > 0) this.busyDigests.set(digest, count);
    else this.busyDigests.delete(digest);
  }
}
