import {
  EventsV1Api,
  V1MicroTime,
  type EventsV1Event,
  type KubeConfig,
  type KubernetesObject,
} from '@kubernetes/client-node';

import type { Logger } from '../observability/logger.js';
import type { OperatorMetrics } from '../observability/metrics.js';
import { describeApiError } from './errors.js';
import { mergePatchOptions } from './merge-patch.js';

/** Kubernetes Event type: Normal for progress, Warning for anything an SRE should look at. */
export type EventType = 'Normal' | 'Warning';

/** Settings of an EventRecorder. */
export interface EventRecorderOptions {
  kubeConfig: KubeConfig;
  /** Name of the component, e.g. "novadocker.io/operator"; shown as the Event's reporting controller. */
  reportingController: string;
  /** This replica's identity, e.g. the Pod name; at most 128 characters. */
  reportingInstance: string;
  logger: Logger;
  metrics?: OperatorMetrics;
  /** New Events one object may get at once before rate limiting starts. @default 25 */
  burst?: number;
  /** Time for one more new Event of an object to become allowed, in milliseconds. @default 300000 */
  refillMs?: number;
  /** Repeats of an Event are written as one series update at most this often, in milliseconds. @default 30000 */
  seriesFlushMs?: number;
  /** A repeat after this much quiet starts a new Event instead of extending the series, in milliseconds. @default 360000 */
  seriesFinishMs?: number;
  /** Clock in milliseconds; tests pass their own. @default Date.now */
  now?: () => number;
}

interface Series {
  namespace: string;
  eventName: string;
  count: number;
  writtenCount: number;
  lastObserved: number;
  /** Resolves true once the Event exists on the API server. */
  created: Promise<boolean>;
}

interface TokenBucket {
  tokens: number;
  updatedAt: number;
}

const maxNoteBytes = 1024;
const maxCachedSeries = 4096;

/**
 * Records events.k8s.io/v1 Events about objects, aggregated the way client-go
 * does. A repeat of the same Event (same object, type, reason, action and
 * note) increments series.count on the existing Event instead of creating a
 * new one. The second occurrence is written at once, and later repeats are
 * batched into one series update per seriesFlushMs.
 * New Events are limited per object by a token bucket, so an error that
 * flaps with a changing message cannot flood the API server. Recording never
 * throws and never blocks the caller; write failures are logged and counted.
 */
export class EventRecorder {
  private readonly api: EventsV1Api;
  private readonly logger: Logger;
  private readonly now: () => number;
  private readonly series = new Map<string, Series>();
  private readonly buckets = new Map<string, TokenBucket>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private flushTimer: NodeJS.Timeout | undefined;
  private sequence = 0;
  private closed = false;

  constructor(private readonly options: EventRecorderOptions) {
    this.api = options.kubeConfig.makeApiClient(EventsV1Api);
    this.logger = options.logger.child({ component: 'events' });
    this.now = options.now ?? Date.now;
  }

  /**
   * Records one occurrence of an Event about object. The Event lands in the
   * object's namespace. note is cut to 1024 bytes and must never contain secret
   * data, because anyone allowed to read Events in the namespace can read it.
   */
  record(
    object: KubernetesObject,
    type: EventType,
    reason: string,
    action: string,
    note: string,
  ): void {
    if (this.closed) return;
    const namespace = object.metadata?.namespace;
    const name = object.metadata?.name;
    if (!namespace || !name) {
      this.logger.warn(
        { kind: object.kind, reason },
        'cannot record an Event for an object without name and namespace',
      );
      return;
    }
    const trimmedNote = truncateUtf8(note, maxNoteBytes);
    const key = [
      namespace,
      object.kind,
      name,
      object.metadata?.uid,
      type,
      reason,
      action,
      trimmedNote,
    ].join('\u0000');
    const now = this.now();

    const existing = this.series.get(key);
    if (existing && now - existing.lastObserved <= this.seriesFinishMs) {
      existing.count += 1;
      existing.lastObserved = now;
      // The second occurrence is written at once so the series shows up
      // right away; later ones are batched by the flush timer.
      if (existing.count === 2) this.track(this.writeSeries(existing));
      else this.scheduleFlush();
      return;
    }
    this.series.delete(key);

    if (!this.takeToken(`${namespace}/${object.kind}/${name}`, now)) {
      this.options.metrics?.eventsDropped.inc({ reason: 'rate_limited' });
      this.logger.debug({ namespace, name, reason }, 'Event dropped by the per-object rate limit');
      return;
    }

    const event = this.buildEvent(object, namespace, name, type, reason, action, trimmedNote, now);
    const entry: Series = {
      namespace,
      eventName: event.metadata!.name!,
      count: 1,
      writtenCount: 1,
      lastObserved: now,
      created: Promise.resolve(false),
    };
    entry.created = this.create(event, key);
    this.track(entry.created);
    this.series.set(key, entry);
    this.evictOldest();
  }

  /** Writes every pending series update and waits for all writes in flight. */
  async flush(): Promise<void> {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    for (const entry of this.series.values()) {
      if (entry.count > entry.writtenCount) this.track(this.writeSeries(entry));
    }
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /** Flushes, then ignores every later record() call. */
  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
  }

  private get seriesFinishMs(): number {
    return this.options.seriesFinishMs ?? 360_000;
  }

  private buildEvent(
    object: KubernetesObject,
    namespace: string,
    name: string,
    type: EventType,
    reason: string,
    action: string,
    note: string,
    now: number,
  ): EventsV1Event {
    // Same naming as client-go: the object's name and a hexadecimal time,
    // with a counter so two Events in one millisecond do not collide.
    const stamp = (BigInt(now) * 1_000_000n + BigInt(this.sequence++ % 1_000_000)).toString(16);
    return {
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: { name: `${name.slice(0, 253 - stamp.length - 1)}.${stamp}`, namespace },
      eventTime: new V1MicroTime(now),
      reportingController: this.options.reportingController,
      reportingInstance: this.options.reportingInstance.slice(0, 128),
      action: action.slice(0, 128),
      reason: reason.slice(0, 128),
      note,
      type,
      regarding: {
        apiVersion: object.apiVersion,
        kind: object.kind,
        name,
        namespace,
        uid: object.metadata?.uid,
        resourceVersion: object.metadata?.resourceVersion,
      },
    };
  }

  private async create(event: EventsV1Event, key: string): Promise<boolean> {
    const namespace = event.metadata!.namespace!;
    try {
      await this.api.createNamespacedEvent({ namespace, body: event });
      return true;
    } catch (err) {
      this.series.delete(key);
      this.options.metrics?.eventsDropped.inc({ reason: 'write_failed' });
      this.logger.warn(
        {
          namespace,
          name: event.regarding?.name,
          reason: event.reason,
          err: describeApiError(err),
        },
        'failed to create Event',
      );
      return false;
    }
  }

  private async writeSeries(entry: Series): Promise<void> {
    if (!(await entry.created) || entry.count <= entry.writtenCount) return;
    const count = entry.count;
    const body = { series: { count, lastObservedTime: new V1MicroTime(entry.lastObserved) } };
    try {
      await this.api.patchNamespacedEvent(
        { name: entry.eventName, namespace: entry.namespace, body },
        mergePatchOptions,
      );
      entry.writtenCount = Math.max(entry.writtenCount, count);
    } catch (err) {
      this.options.metrics?.eventsDropped.inc({ reason: 'write_failed' });
      this.logger.warn(
        { namespace: entry.namespace, event: entry.eventName, err: describeApiError(err) },
        'failed to update Event series',
      );
    }
  }

  private scheduleFlush(): void {
    if (this.flushTimer) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      const now = this.now();
      for (const [key, entry] of this.series) {
        if (entry.count > entry.writtenCount) this.track(this.writeSeries(entry));
        else if (now - entry.lastObserved > this.seriesFinishMs) this.series.delete(key);
      }
    }, this.options.seriesFlushMs ?? 30_000);
    this.flushTimer.unref();
  }

  private takeToken(objectKey: string, now: number): boolean {
    const burst = this.options.burst ?? 25;
    const refillMs = this.options.refillMs ?? 300_000;
    const bucket = this.buckets.get(objectKey) ?? { tokens: burst, updatedAt: now };
    bucket.tokens = Math.min(burst, bucket.tokens + (now - bucket.updatedAt) / refillMs);
    bucket.updatedAt = now;
    this.buckets.set(objectKey, bucket);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  private evictOldest(): void {
    // Maps iterate in insertion order, so the first keys are the oldest.
    for (const key of this.series.keys()) {
      if (this.series.size <= maxCachedSeries) break;
      this.series.delete(key);
    }
    for (const key of this.buckets.keys()) {
      if (this.buckets.size <= maxCachedSeries) break;
      this.buckets.delete(key);
    }
  }

  private track(promise: Promise<unknown>): void {
    this.inFlight.add(promise);
    void promise.finally(() => this.inFlight.delete(promise));
  }
}

/** Cuts text to at most maxBytes of UTF-8, ending with "..." when cut, without splitting a character. */
export function truncateUtf8(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text) <= maxBytes) return text;
  let result = '';
  let bytes = 0;
  for (const char of text) {
    const size = Buffer.byteLength(char);
    if (bytes + size > maxBytes - 3) break;
    result += char;
    bytes += size;
  }
  return `${result}...`;
}
