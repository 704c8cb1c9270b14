import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { performance } from 'node:perf_hooks';

import {
  CoordinationV1Api,
  V1MicroTime,
  type KubeConfig,
  type V1Lease,
  type V1LeaseSpec,
} from '@kubernetes/client-node';

import type { Logger } from '../observability/logger.js';
import type { OperatorMetrics } from '../observability/metrics.js';
import { describeApiError, isConflict, isNotFound } from './errors.js';

/** Settings of a LeaderElector; durations follow client-go's leaderelection package. */
export interface LeaderElectionOptions {
  kubeConfig: KubeConfig;
  /** Namespace of the Lease. */
  namespace: string;
  /** Name of the Lease, e.g. "nova-docker-operator". */
  name: string;
  /** This candidate's identity; unique per process. @default `<hostname>_<uuid>` */
  identity?: string;
  /** How long a Lease not renewed stays valid; others wait this long before taking it, in milliseconds. @default 15000 */
  leaseDurationMs?: number;
  /** The leader gives up when it could not renew for this long, in milliseconds. @default 10000 */
  renewDeadlineMs?: number;
  /** Time between attempts to acquire or renew, in milliseconds. @default 2000 */
  retryPeriodMs?: number;
  /** Called once this candidate holds the Lease. */
  onStartedLeading: () => void;
  /** Called once when leadership ends: lost (could not renew, or another holder) or released by stop(). */
  onStoppedLeading: (reason: 'lost' | 'released') => void;
  /** Called when a different holder is seen, including this candidate. */
  onNewLeader?: (identity: string) => void;
  logger: Logger;
  metrics?: OperatorMetrics;
}

/** Returns the default candidate identity: the host name (the Pod name in a cluster) and a random UUID. */
export function defaultIdentity(): string {
  return `${hostname()}_${randomUUID()}`;
}

/** Fraction of retryPeriod added at random to each wait, as client-go's JitterFactor 1.2 but smaller so failover stays well inside lease + 2 retry periods. */
const retryJitter = 0.1;

/**
 * Leader election on a coordination.k8s.io/v1 Lease, with client-go's
 * semantics. A candidate takes the Lease when it has no holder, or when its
 * record has not changed for leaseDuration on this process's monotonic
 * clock, so clock skew between nodes does not matter. The leader renews
 * every retryPeriod and steps down when renewal fails for renewDeadline or
 * another holder appears. Writes use the Lease's
 * resourceVersion, so two candidates can never both succeed. stop()
 * releases a held Lease, which lets a standby take over within one
 * retryPeriod instead of waiting leaseDuration.
 */
export class LeaderElector {
  readonly identity: string;

  private readonly api: CoordinationV1Api;
  private readonly logger: Logger;
  private readonly leaseDurationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;

  private leading = false;
  private stopped = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  /** The last Lease read or written, with the monotonic time its record last changed. */
  private observed: { lease: V1Lease; recordKey: string; at: number } | undefined;
  private lastHolder: string | undefined;

  constructor(private readonly options: LeaderElectionOptions) {
    this.identity = options.identity ?? defaultIdentity();
    this.leaseDurationMs = options.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = options.renewDeadlineMs ?? 10_000;
    this.retryPeriodMs = options.retryPeriodMs ?? 2_000;
    if (!(this.leaseDurationMs > this.renewDeadlineMs)) {
      throw new RangeError(
        `lease duration (${this.leaseDurationMs} ms) must be greater than renew deadline (${this.renewDeadlineMs} ms)`,
      );
    }
    if (!(this.renewDeadlineMs > this.retryPeriodMs * (1 + retryJitter))) {
      throw new RangeError(
        `renew deadline (${this.renewDeadlineMs} ms) must be greater than retry period (${this.retryPeriodMs} ms) x ${1 + retryJitter}`,
      );
    }
    this.api = options.kubeConfig.makeApiClient(CoordinationV1Api);
    this.logger = options.logger.child({
      lease: `${options.namespace}/${options.name}`,
      identity: this.identity,
    });
  }

  /** Returns whether this candidate currently holds the Lease. */
  isLeader(): boolean {
    return this.leading;
  }

  /** Starts campaigning in the background; API errors are logged and retried. */
  start(): void {
    if (this.loop) return;
    this.options.metrics?.setLeader(this.options.name, false);
    this.logger.info(
      {
        leaseDurationMs: this.leaseDurationMs,
        renewDeadlineMs: this.renewDeadlineMs,
        retryPeriodMs: this.retryPeriodMs,
      },
      'leader election starting',
    );
    this.loop = this.run();
  }

  /**
   * Stops campaigning and, when leading, releases the Lease and calls
   * onStoppedLeading('released'). Resolves when done; a failed release is
   * logged, and others then take over after leaseDuration.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loop;
    // An attempt that was in flight when stop() was called may have taken
    // the Lease without this.leading being set yet, so check the record.
    if (this.observed?.lease.spec?.holderIdentity === this.identity) await this.release();
    this.setLeading(false, 'released');
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      // Campaign until the Lease is ours.
      while (!this.stopped && !(await this.tryAcquireOrRenew())) {
        await this.sleep(this.untilNextAttempt());
      }
      if (this.stopped) return;
      this.setLeading(true);

      // Renew until a renewal fails for longer than renewDeadline.
      let lastRenew = performance.now();
      while (!this.stopped && this.leading) {
        await this.sleep(this.retryPeriodMs);
        if (this.stopped) return;
        if (await this.tryAcquireOrRenew()) {
          lastRenew = performance.now();
        } else if (this.heldByOther() || performance.now() - lastRenew > this.renewDeadlineMs) {
          this.logger.error(
            { holder: this.lastHolder, sinceRenewMs: Math.round(performance.now() - lastRenew) },
            'leader election lost',
          );
          this.setLeading(false, 'lost');
        }
      }
    }
  }

  /** Returns true when this candidate holds the Lease after the attempt. */
  private async tryAcquireOrRenew(): Promise<boolean> {
    const { namespace, name } = this.options;
    const now = new Date();
    let lease: V1Lease;
    try {
      lease = await this.withTimeout(this.api.readNamespacedLease({ namespace, name }));
    } catch (err) {
      if (!isNotFound(err)) {
        this.logger.warn(
          { err: describeApiError(err) },
          'failed to read the leader election Lease',
        );
        return false;
      }
      return this.createLease(now);
    }

    this.observe(lease);
    const spec = lease.spec ?? {};
    const holder = spec.holderIdentity ?? '';
    if (holder && holder !== this.identity && !this.observedExpired()) return false;

    const mine = holder === this.identity;
    const desired: V1LeaseSpec = {
      holderIdentity: this.identity,
      leaseDurationSeconds: Math.ceil(this.leaseDurationMs / 1000),
      acquireTime:
        mine && spec.acquireTime ? new V1MicroTime(spec.acquireTime) : new V1MicroTime(now),
      renewTime: new V1MicroTime(now),
      leaseTransitions: (spec.leaseTransitions ?? 0) + (mine ? 0 : 1),
    };
    try {
      const updated = await this.withTimeout(
        this.api.replaceNamespacedLease({ namespace, name, body: { ...lease, spec: desired } }),
      );
      this.observe(updated);
      return true;
    } catch (err) {
      if (!isConflict(err))
        this.logger.warn(
          { err: describeApiError(err) },
          'failed to update the leader election Lease',
        );
      return false;
    }
  }

  private async createLease(now: Date): Promise<boolean> {
    const { namespace, name } = this.options;
    const body: V1Lease = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { namespace, name },
      spec: {
        holderIdentity: this.identity,
        leaseDurationSeconds: Math.ceil(this.leaseDurationMs / 1000),
        acquireTime: new V1MicroTime(now),
        renewTime: new V1MicroTime(now),
        leaseTransitions: 0,
      },
    };
    try {
      this.observe(await this.withTimeout(this.api.createNamespacedLease({ namespace, body })));
      return true;
    } catch (err) {
      if (!isConflict(err))
        this.logger.warn(
          { err: describeApiError(err) },
          'failed to create the leader election Lease',
        );
      return false;
    }
  }

  /** Clears the holder as client-go does, so candidates need not wait for the Lease to expire. */
  private async release(): Promise<void> {
    const lease = this.observed?.lease;
    if (!lease || lease.spec?.holderIdentity !== this.identity) return;
    const now = new V1MicroTime(Date.now());
    const spec: V1LeaseSpec = {
      ...lease.spec,
      holderIdentity: '',
      leaseDurationSeconds: 1,
      acquireTime: now,
      renewTime: now,
    };
    try {
      await this.withTimeout(
        this.api.replaceNamespacedLease({
          namespace: this.options.namespace,
          name: this.options.name,
          body: { ...lease, spec },
        }),
      );
      this.logger.info('leader election Lease released');
    } catch (err) {
      this.logger.warn(
        { err: describeApiError(err) },
        'failed to release the leader election Lease; others take over once it expires',
      );
    }
  }

  private observe(lease: V1Lease): void {
    const spec = lease.spec ?? {};
    const recordKey = JSON.stringify([
      spec.holderIdentity,
      spec.renewTime,
      spec.acquireTime,
      spec.leaseTransitions,
      spec.leaseDurationSeconds,
    ]);
    if (this.observed?.recordKey !== recordKey) {
      this.observed = { lease, recordKey, at: performance.now() };
    } else {
      this.observed.lease = lease;
    }
    const holder = spec.holderIdentity ?? '';
    if (holder && holder !== this.lastHolder) {
      this.lastHolder = holder;
      this.logger.info({ holder }, 'new leader observed');
      this.options.onNewLeader?.(holder);
    }
  }

  private observedExpired(): boolean {
    if (!this.observed) return true;
    return performance.now() >= this.observed.at + this.leaseDurationMs;
  }

  private heldByOther(): boolean {
    const holder = this.observed?.lease.spec?.holderIdentity;
    return Boolean(holder) && holder !== this.identity && !this.observedExpired();
  }

  /** Waits one jittered retry period, or only until the observed Lease expires when that is sooner. */
  private untilNextAttempt(): number {
    const retry = this.retryPeriodMs * (1 + Math.random() * retryJitter);
    if (!this.observed) return retry;
    const untilExpiry = this.observed.at + this.leaseDurationMs - performance.now();
    return Math.max(50, Math.min(retry, untilExpiry + 50));
  }

  private setLeading(leading: boolean, reason?: 'lost' | 'released'): void {
    if (this.leading === leading) return;
    this.leading = leading;
    this.options.metrics?.setLeader(this.options.name, leading);
    if (leading) {
      this.logger.info('became leader');
      this.options.onStartedLeading();
    } else {
      this.logger.info({ reason }, 'stopped leading');
      this.options.onStoppedLeading(reason ?? 'lost');
    }
  }

  private async withTimeout<T>(promise: Promise<T>): Promise<T> {
    // A hung request must not outlast the renew deadline; the request may
    // still complete later, which is harmless because writes carry a resourceVersion.
    const timeoutMs = Math.max(this.renewDeadlineMs / 2, this.retryPeriodMs);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`Lease request timed out after ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    try {
      return await Promise.race([promise, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wake = undefined;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
    });
  }
}
