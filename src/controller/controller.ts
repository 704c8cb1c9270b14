import { performance } from 'node:perf_hooks';

import type { KubernetesObject } from '@kubernetes/client-node';

import { isConflict } from '../kube/errors.js';
import type { Informer, InformerEvent } from '../kube/informer.js';
import { objectKey, splitObjectKey } from '../kube/resource.js';
import type { Logger } from '../observability/logger.js';
import type { OperatorMetrics, ReconcileResultLabel } from '../observability/metrics.js';
import type { BackoffOptions } from './backoff.js';
import {
  TerminalError,
  type ReconcileFunction,
  type ReconcileResult,
  type Reconciler,
} from './reconciler.js';
import { WorkQueue, type ProcessOutcome, type ShutdownResult } from './workqueue.js';

/** Settings of a Controller. */
export interface ControllerOptions<T extends KubernetesObject> {
  /** Name in logs and metrics, e.g. "containerinstance". */
  name: string;
  /** Informer of the reconciled resource; its keys are the work queue keys. */
  informer: Informer<T>;
  reconciler: Reconciler<T> | ReconcileFunction<T>;
  /** Reconciles running at the same time, at most. @default 1 */
  concurrency?: number;
  /** Per-key retry delays after transient errors. @default base 1 s, max 5 min, jitter 0.2 */
  backoff?: BackoffOptions;
  /** Retry delay after a terminal error, in milliseconds; a change to the object retries at once. @default 300000 */
  terminalRetryMs?: number;
  /** Returns false for informer events that should not trigger a reconcile. @default every event */
  filter?: (event: InformerEvent<T>) => boolean;
  logger: Logger;
  metrics?: OperatorMetrics;
}

/**
 * The generic reconcile loop: informer events become work queue keys, and
 * each key is reconciled with the informer's latest object. Nothing runs
 * until start(), so a standby replica keeps its caches warm without acting;
 * shutdown() stops taking work and waits for running reconciles.
 */
export class Controller<T extends KubernetesObject> {
  readonly name: string;

  private readonly queue: WorkQueue;
  private readonly reconcile: ReconcileFunction<T>;
  private readonly logger: Logger;
  private readonly terminalRetryMs: number;
  private started = false;
  private stopped = false;

  constructor(private readonly options: ControllerOptions<T>) {
    this.name = options.name;
    this.logger = options.logger.child({ controller: options.name });
    this.terminalRetryMs = options.terminalRetryMs ?? 300_000;
    if (!(this.terminalRetryMs > 0)) {
      throw new RangeError(`terminalRetryMs must be > 0. Received: ${this.terminalRetryMs}`);
    }
    const reconciler = options.reconciler;
    this.reconcile =
      typeof reconciler === 'function'
        ? reconciler
        : (key, object) => reconciler.reconcile(key, object);
    this.queue = new WorkQueue({
      name: options.name,
      concurrency: options.concurrency ?? 1,
      backoff: options.backoff,
      metrics: options.metrics?.workQueue(options.name),
      process: (key) => this.processKey(key),
    });

    options.informer.on((event) => {
      if (options.filter && !options.filter(event)) return;
      this.enqueue(objectKey(event.object));
    });
  }

  /**
   * Also reconciles on changes of another informer's objects: map returns
   * the keys of the reconciled objects that depend on the changed one (e.g.
   * the instances that reference a Secret). Register before start().
   */
  watch<S extends KubernetesObject>(informer: Informer<S>, map: (object: S) => string[]): void {
    informer.on((event) => {
      let keys: string[];
      try {
        keys = map(event.object);
      } catch (err) {
        this.logger.error(
          { err, informer: informer.name },
          'mapping an informer event to keys failed',
        );
        return;
      }
      for (const key of keys) this.enqueue(key);
    });
  }

  /**
   * Starts reconciling: waits for the informer's first list, then queues
   * every cached object. Later events are queued as they arrive.
   */
  async start(syncTimeoutMs = 120_000): Promise<void> {
    if (this.started || this.stopped) return;
    await this.options.informer.waitForSync(syncTimeoutMs);
    this.started = true;
    const objects = this.options.informer.list();
    this.logger.info(
      { objects: objects.length, concurrency: this.options.concurrency ?? 1 },
      'controller started',
    );
    for (const object of objects) this.queue.add(objectKey(object));
  }

  /** Queues a key now; ignored before start() and after shutdown(). */
  enqueue(key: string): void {
    if (this.started && !this.stopped) this.queue.add(key);
  }

  /** Queues a key after delayMs; ignored before start() and after shutdown(). */
  enqueueAfter(key: string, delayMs: number): void {
    if (this.started && !this.stopped) this.queue.addAfter(key, delayMs);
  }

  /** Returns whether start() has run and shutdown() has not. */
  isRunning(): boolean {
    return this.started && !this.stopped;
  }

  /**
   * Stops taking work and waits up to deadlineMs for running reconciles.
   * Reconciles still running at the deadline are listed, not cancelled.
   */
  async shutdown(deadlineMs: number): Promise<ShutdownResult> {
    this.stopped = true;
    const result = await this.queue.shutdown(deadlineMs);
    if (result.drained) this.logger.info('controller stopped; no reconcile in flight');
    else
      this.logger.warn(
        { abandoned: result.abandoned, deadlineMs },
        'controller stopped with reconciles still running at the deadline',
      );
    return result;
  }

  private async processKey(key: string): Promise<ProcessOutcome> {
    const { namespace, name } = splitObjectKey(key);
    const log = this.logger.child({ namespace, name });
    const object = this.options.informer.get(name, namespace || undefined);
    if (!object) this.queue.forget(key);

    const startedAt = performance.now();
    let result: ReconcileResult;
    try {
      result = await this.reconcile(key, object);
    } catch (err) {
      result =
        err instanceof TerminalError
          ? { kind: 'terminal', error: err }
          : { kind: 'error', error: err };
    }
    const seconds = (performance.now() - startedAt) / 1000;
    const durationMs = Math.round(seconds * 1000);

    let label: ReconcileResultLabel;
    let outcome: ProcessOutcome;
    switch (result.kind) {
      case 'done':
        label = 'success';
        outcome = { type: 'success' };
        log.debug({ durationMs }, 'reconciled');
        break;
      case 'requeueAfter':
        label = 'requeue_after';
        outcome = { type: 'success', requeueAfterMs: result.delayMs };
        log.debug({ durationMs, requeueAfterMs: result.delayMs }, 'reconciled; requeued');
        break;
      case 'error': {
        label = 'error';
        outcome = { type: 'failure', retryAfterMs: result.retryAfterMs };
        const attempt = this.queue.failureCount(key) + 1;
        // A 409 means the cached object was stale: routine, retried after the newer copy arrives.
        if (isConflict(result.error))
          log.info(
            { durationMs, attempt, err: result.error },
            'reconcile hit a conflict; retrying',
          );
        else
          log.warn(
            { durationMs, attempt, err: result.error },
            'reconcile failed; retrying with backoff',
          );
        break;
      }
      case 'terminal':
        label = 'terminal_error';
        outcome = { type: 'failure', retryAfterMs: this.terminalRetryMs };
        log.error(
          { durationMs, err: result.error, retryAfterMs: this.terminalRetryMs },
          'reconcile failed and retrying will not help; waiting for a change',
        );
        break;
    }
    this.options.metrics?.observeReconcile(this.name, label, seconds);
    return outcome;
  }
}
