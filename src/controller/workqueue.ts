import { performance } from 'node:perf_hooks';

import PQueue from 'p-queue';

import { noWorkQueueMetrics, type WorkQueueMetrics } from '../observability/metrics.js';
import { backoffDelay, type BackoffOptions } from './backoff.js';

/**
 * Next step that a run of a key requests from the queue. `success` resets the key's
 * backoff and, with requeueAfterMs, runs it again after that delay.
 * `failure` grows the key's backoff and runs it again after the backoff
 * delay, or after retryAfterMs when that is longer (e.g. a Retry-After).
 */
export type ProcessOutcome =
  { type: 'success'; requeueAfterMs?: number } | { type: 'failure'; retryAfterMs?: number };

/** Runs one key; a thrown error counts as a failure. */
export type ProcessFunction = (key: string) => Promise<ProcessOutcome>;

/** Settings of a WorkQueue. */
export interface WorkQueueOptions {
  /** Name in metrics and logs. */
  name: string;
  /** Keys run at the same time, at most. @default 1 */
  concurrency?: number;
  /** Per-key retry delays after failures. @default base 1 s, max 5 min, jitter 0.2 */
  backoff?: BackoffOptions;
  metrics?: WorkQueueMetrics;
  process: ProcessFunction;
  /** Receives errors thrown by process, which the queue treats as failures. */
  onProcessError?: (key: string, err: unknown) => void;
}

/** Result of shutdown(). */
export interface ShutdownResult {
  /** True when every running key finished before the deadline. */
  drained: boolean;
  /** Keys still running at the deadline. */
  abandoned: string[];
}

/**
 * A keyed work queue on p-queue with client-go's semantics. A key waits at
 * most once and never runs twice at the same time. A key added while it runs
 * runs once more after it finishes. Failures back off per key with jitter
 * and reset on success, and a run may request a requeue after a delay.
 * Starting a run cancels the key's pending delayed add, because the run's
 * own outcome decides when it runs next.
 */
export class WorkQueue {
  private readonly queue: PQueue;
  private readonly metrics: WorkQueueMetrics;
  private readonly backoff: BackoffOptions;

  /** Keys waiting in p-queue, with the time they were added. */
  private readonly waiting = new Map<string, number>();
  private readonly running = new Set<string>();
  /** Keys added while running, with the time of that add. */
  private readonly dirty = new Map<string, number>();
  private readonly delayed = new Map<string, { timer: NodeJS.Timeout; dueAt: number }>();
  private readonly failures = new Map<string, number>();
  private shuttingDown = false;

  constructor(private readonly options: WorkQueueOptions) {
    const concurrency = options.concurrency ?? 1;
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw new RangeError(
        `work queue concurrency must be a positive integer. Received: ${concurrency}`,
      );
    }
    this.queue = new PQueue({ concurrency });
    this.metrics = options.metrics ?? noWorkQueueMetrics;
    this.backoff = { baseMs: 1000, maxMs: 300_000, jitter: 0.2, ...options.backoff };
  }

  /** Adds a key to run as soon as a worker is free; a waiting key is not added twice. Ignored after shutdown. */
  add(key: string): void {
    if (this.shuttingDown) return;
    this.metrics.countAdd();
    if (this.waiting.has(key)) return;
    if (this.running.has(key)) {
      if (!this.dirty.has(key)) this.dirty.set(key, performance.now());
      return;
    }
    this.enqueue(key, performance.now());
  }

  /**
   * Adds a key after delayMs. A key already waiting is left alone, and an
   * earlier pending delayed add wins over a later one.
   */
  addAfter(key: string, delayMs: number): void {
    if (this.shuttingDown) return;
    if (!(delayMs > 0)) {
      this.add(key);
      return;
    }
    if (this.waiting.has(key)) return;
    const dueAt = performance.now() + delayMs;
    const pending = this.delayed.get(key);
    if (pending && pending.dueAt <= dueAt) return;
    if (pending) clearTimeout(pending.timer);
    const timer = setTimeout(() => {
      this.delayed.delete(key);
      this.add(key);
    }, delayMs);
    this.delayed.set(key, { timer, dueAt });
  }

  /** Number of failures of the key since its last success. */
  failureCount(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  /** Forgets a key's failures and any pending delayed add, e.g. after the object was deleted. */
  forget(key: string): void {
    this.failures.delete(key);
    const pending = this.delayed.get(key);
    if (pending) clearTimeout(pending.timer);
    this.delayed.delete(key);
  }

  /** Number of keys waiting to run. */
  get depth(): number {
    return this.waiting.size;
  }

  /** Number of keys running now. */
  get active(): number {
    return this.running.size;
  }

  /** Returns whether the key is waiting, running, or scheduled to be added later. */
  has(key: string): boolean {
    return this.waiting.has(key) || this.running.has(key) || this.delayed.has(key);
  }

  /**
   * Stops taking work: drops waiting keys and delayed adds, then waits up to
   * deadlineMs for running keys to finish. Running keys are never cancelled;
   * the result lists those still running at the deadline.
   */
  async shutdown(deadlineMs: number): Promise<ShutdownResult> {
    this.shuttingDown = true;
    for (const { timer } of this.delayed.values()) clearTimeout(timer);
    this.delayed.clear();
    this.queue.clear();
    this.waiting.clear();
    this.dirty.clear();
    this.metrics.setDepth(0);

    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, deadlineMs);
    });
    await Promise.race([this.queue.onPendingZero(), deadline]);
    clearTimeout(timer);
    return { drained: this.running.size === 0, abandoned: [...this.running] };
  }

  private enqueue(key: string, addedAt: number): void {
    this.waiting.set(key, addedAt);
    this.metrics.setDepth(this.waiting.size);
    void this.queue.add(() => this.run(key));
  }

  private async run(key: string): Promise<void> {
    const addedAt = this.waiting.get(key);
    if (addedAt === undefined) return; // dropped by shutdown
    this.waiting.delete(key);
    this.metrics.setDepth(this.waiting.size);
    this.metrics.observeWait((performance.now() - addedAt) / 1000);
    this.running.add(key);
    const pending = this.delayed.get(key);
    if (pending) clearTimeout(pending.timer);
    this.delayed.delete(key);

    const startedAt = performance.now();
    let outcome: ProcessOutcome;
    try {
      outcome = await this.options.process(key);
    } catch (err) {
      this.options.onProcessError?.(key, err);
      outcome = { type: 'failure' };
    }
    this.metrics.observeWork((performance.now() - startedAt) / 1000);
    this.running.delete(key);

    if (outcome.type === 'success') {
      this.failures.delete(key);
      if (outcome.requeueAfterMs !== undefined) this.addAfter(key, outcome.requeueAfterMs);
    } else {
      const attempt = (this.failures.get(key) ?? 0) + 1;
      this.failures.set(key, attempt);
      this.metrics.countRetry();
      this.addAfter(key, Math.max(backoffDelay(attempt, this.backoff), outcome.retryAfterMs ?? 0));
    }

    // The key changed while it ran: run it again now with the newer state.
    const dirtySince = this.dirty.get(key);
    if (dirtySince !== undefined && !this.shuttingDown) {
      this.dirty.delete(key);
      this.enqueue(key, dirtySince);
    }
  }
}
