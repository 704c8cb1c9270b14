import { setTimeout as sleep } from 'node:timers/promises';

import {
  ListWatch,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
} from '@kubernetes/client-node';

import { Backoff, type BackoffOptions } from '../controller/backoff.js';
import type { Logger } from '../observability/logger.js';
import type { OperatorMetrics } from '../observability/metrics.js';
import { describeApiError } from './errors.js';
import { InformerWatch } from './watch.js';

/**
 * Kind of change to a cached object. `resync` replays every cached object
 * after a relist (for example after a 410 Gone), because changes between the
 * lost watch and the relist may be folded into one state.
 */
export type InformerEventType = 'add' | 'update' | 'delete' | 'resync';

/** One change seen by an informer. */
export interface InformerEvent<T> {
  type: InformerEventType;
  object: T;
}

/** Receives informer events; it must not throw and must return quickly. */
export type InformerHandler<T> = (event: InformerEvent<T>) => void;

/** Settings of an Informer. */
export interface InformerOptions<T extends KubernetesObject> {
  /** Name in logs and metrics, e.g. "containerinstances". */
  name: string;
  kubeConfig: KubeConfig;
  /** Collection path the watch requests, e.g. /apis/novadocker.io/v1alpha1/containerinstances. */
  path: string;
  /** Lists the collection with the same selectors; the list's resourceVersion starts the watch. */
  list: () => Promise<KubernetesListObject<T>>;
  labelSelector?: string;
  fieldSelector?: string;
  /**
   * Server-side watch timeout in seconds; each watch picks a random value
   * between this and twice this, so replicas do not reconnect together.
   * @default 300
   */
  watchTimeoutSeconds?: number;
  /**
   * A watch that receives nothing, not even a bookmark, for this long is
   * closed and resumed, in milliseconds. API servers send a bookmark about
   * once a minute, so keep it above 60000.
   * @default 120000
   */
  silenceTimeoutMs?: number;
  /** Delays between restarts after list or watch errors. @default base 1 s, max 30 s, jitter 0.2 */
  restartBackoff?: BackoffOptions;
  logger: Logger;
  metrics?: OperatorMetrics;
  /**
   * Changes each object in place before it is cached. Defaults to removing
   * metadata.managedFields, which no controller reads and which can double
   * the cache's memory.
   */
  transform?: (object: T) => void;
}

/** Removes metadata.managedFields in place. */
export function dropManagedFields(object: KubernetesObject): void {
  if (object.metadata) delete object.metadata.managedFields;
}

/**
 * A list-and-watch cache of one collection, built on client-node's ListWatch.
 * ListWatch stops for good on any error other than 410 Gone. This class
 * restarts it with capped exponential backoff and jitter, and the restart
 * resumes from the last resourceVersion, so a dropped connection or an API
 * server restart loses no change. After any relist it replays every object
 * as `resync`.
 */
export class Informer<T extends KubernetesObject> {
  readonly name: string;

  private readonly listWatch: ListWatch<T>;
  private readonly handlers: InformerHandler<T>[] = [];
  private readonly backoff: Backoff;
  private readonly logger: Logger;
  private readonly transform: (object: T) => void;

  private synced = false;
  private running = false;
  private restartTimer: NodeJS.Timeout | undefined;
  private lists = 0;

  constructor(private readonly options: InformerOptions<T>) {
    this.name = options.name;
    this.logger = options.logger.child({ informer: options.name });
    this.backoff = new Backoff({
      baseMs: 1000,
      maxMs: 30_000,
      jitter: 0.2,
      ...options.restartBackoff,
    });
    this.transform = options.transform ?? dropManagedFields;

    const watchTimeoutSeconds = options.watchTimeoutSeconds ?? 300;
    const watch = new InformerWatch(options.kubeConfig, {
      timeoutSeconds: () => watchTimeoutSeconds + Math.floor(Math.random() * watchTimeoutSeconds),
      silenceTimeoutMs: options.silenceTimeoutMs ?? 120_000,
      transform: (object) => this.transform(object as T),
      onEvent: () => this.backoff.reset(),
      onSilent: () => {
        this.logger.warn(
          { silenceTimeoutMs: options.silenceTimeoutMs ?? 120_000 },
          'watch was silent too long; resuming it',
        );
        options.metrics?.watchRestarts.inc({ informer: this.name, reason: 'silent' });
      },
    });
    this.listWatch = new ListWatch<T>(
      options.path,
      watch,
      () => this.listAndMark(),
      false,
      options.labelSelector,
      options.fieldSelector,
    );
    this.listWatch.on('add', (object) => this.emit('add', object));
    this.listWatch.on('update', (object) => this.emit('update', object));
    this.listWatch.on('delete', (object) => this.emit('delete', object));
    this.listWatch.on('error', (err) => this.restartAfterError(err));
  }

  /** Registers a handler for every later event; register before start() to see the initial adds. */
  on(handler: InformerHandler<T>): void {
    this.handlers.push(handler);
  }

  /** Starts listing and watching in the background; errors are retried, never thrown. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.logger.info(
      { path: this.options.path, labelSelector: this.options.labelSelector },
      'informer starting',
    );
    void this.listWatch.start();
  }

  /** Stops the watch and any pending restart. The cache keeps its last content. */
  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    await this.listWatch.stop();
    this.logger.info('informer stopped');
  }

  /** Returns whether the first list has been stored, so the cache reflects the API server. */
  hasSynced(): boolean {
    return this.synced;
  }

  /** Resolves once hasSynced() is true; rejects after timeoutMs with the informer's name. */
  async waitForSync(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.synced) {
      if (Date.now() > deadline)
        throw new Error(
          `informer ${this.name} did not sync within ${timeoutMs} ms; check API server access and RBAC`,
        );
      await sleep(50);
    }
  }

  /** Returns the cached object, or undefined when it is not (or no longer) in the cache. */
  get(name: string, namespace?: string): T | undefined {
    return this.listWatch.get(name, namespace);
  }

  /** Returns every cached object, or those of one namespace. */
  list(namespace?: string): readonly T[] {
    return this.listWatch.list(namespace);
  }

  private async listAndMark(): Promise<KubernetesListObject<T>> {
    const result = await this.options.list();
    for (const item of result.items) this.transform(item);
    this.lists += 1;
    this.backoff.reset();

    // ListWatch stores the items synchronously right after this promise
    // resolves; setImmediate runs after that, so the cache is complete here.
    const relist = this.lists > 1;
    setImmediate(() => this.afterList(relist, result.items.length));
    return result;
  }

  private afterList(relist: boolean, count: number): void {
    if (!this.synced) {
      this.synced = true;
      this.logger.info({ objects: count }, 'informer synced');
    }
    if (!relist) return;
    this.logger.info({ objects: count }, 'informer relisted; replaying every object');
    this.options.metrics?.watchRestarts.inc({ informer: this.name, reason: 'relist' });
    for (const object of this.listWatch.list()) this.emit('resync', object);
  }

  private restartAfterError(err: unknown): void {
    if (!this.running || this.restartTimer) return;
    const delayMs = this.backoff.next();
    this.logger.warn(
      { err: describeApiError(err), attempt: this.backoff.attempts, delayMs },
      'list or watch failed; restarting the informer',
    );
    this.options.metrics?.watchRestarts.inc({ informer: this.name, reason: 'error' });
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (this.running) void this.listWatch.start();
    }, delayMs);
  }

  private emit(type: InformerEventType, object: T): void {
    for (const handler of this.handlers) {
      try {
        handler({ type, object });
      } catch (err) {
        this.logger.error({ err, type }, 'informer event handler threw; continuing');
      }
    }
  }
}
