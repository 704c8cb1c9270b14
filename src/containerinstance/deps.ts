/**
 * Everything the ContainerInstance reconcile steps use, passed in by the
 * wiring so that the steps know no flags, processes or HTTP servers.
 */
import type { ContainerInstance } from '../api/index.js';
import type { Logger } from '../observability/logger.js';
import type { CloudResolver, SecretCache } from './cloud.js';
import type { PublishImage } from './image-step.js';
import type { ImageTracker } from './image-tracker.js';
import type { PlacementResolver } from './placement.js';
import type { EventSink, StatusSink } from './reconcile-run.js';
import type { ServerObserver } from './server-observer.js';

/**
 * Adds and removes the operator's finalizer and returns the object as
 * stored; the wiring adapts FinalizerClient from src/kube.
 */
export interface FinalizerSink {
  add(object: ContainerInstance): Promise<ContainerInstance>;
  remove(object: ContainerInstance): Promise<ContainerInstance>;
}

/** Policy for servers that stay in ERROR; durations in milliseconds. */
export interface ErroredServerPolicy {
  /** Replace the server after the grace period; false only reports it. */
  recreate: boolean;
  /**
   * Time a server may stay in ERROR before it is replaced. It doubles with
   * each replacement in a row, up to an hour (or this value, when longer).
   */
  graceMs: number;
}

/** The collaborators of the reconcile steps. */
export interface ReconcilerDeps {
  logger: Logger;
  statusWriter: StatusSink;
  events: EventSink;
  finalizers: FinalizerSink;
  /** Secrets in the namespaces of the instances, for env and pull Secrets. */
  secrets: SecretCache;
  clouds: CloudResolver;
  placement: PlacementResolver;
  observer: ServerObserver;
  images: ImageTracker;
  /** Publishes images into Glance. */
  publish: PublishImage;
  /** Requeue delay while a server or an image is in progress, in milliseconds. */
  activeIntervalMs: number;
  erroredServers: ErroredServerPolicy;
  /**
   * Called right after a server create returns and before its ID is written
   * to status. Only tests set it, to stop the process at that point.
   */
  afterServerCreate?: (serverID: string) => void;
}
