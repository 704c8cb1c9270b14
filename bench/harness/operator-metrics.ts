/**
 * A few series from the operator's own /metrics that explain the benchmark
 * figures: reconciles by result and their mean duration, time keys waited
 * in the work queue, and the V8 heap next to the RSS.
 */

/** Operator metrics at one moment; counters are totals since the operator started. */
export interface OperatorMetrics {
  reconcilesByResult: Record<string, number>;
  reconcileSecondsSum: number;
  reconcileCount: number;
  queueWaitSecondsSum: number;
  queueWaitCount: number;
  heapUsedBytes: number;
  heapTotalBytes: number;
  externalBytes: number;
}

/** Reads the operator's /metrics; rejects when it does not return 200. */
export async function readOperatorMetrics(url: string): Promise<OperatorMetrics> {
  const response = await fetch(url);
  if (!response.ok) {
    throw new Error(
      `GET ${url} failed with ${response.status}: ${(await response.text()).slice(0, 300)}`,
    );
  }
  return parseOperatorMetrics(await response.text());
}

/** Parses the Prometheus text exposition of the operator into {@link OperatorMetrics}. */
export function parseOperatorMetrics(text: string): OperatorMetrics {
  const metrics: OperatorMetrics = {
    reconcilesByResult: {},
    reconcileSecondsSum: 0,
    reconcileCount: 0,
    queueWaitSecondsSum: 0,
    queueWaitCount: 0,
    heapUsedBytes: 0,
    heapTotalBytes: 0,
    externalBytes: 0,
  };
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const match = /^(\w+)(?:\{([^}]*)\})?\s+(\S+)/.exec(line);
    if (!match) continue;
    const [, name, labels = '', raw] = match;
    const value = Number(raw);
    if (!Number.isFinite(value)) continue;

    switch (name) {
      case 'novadocker_reconcile_total': {
        const result = /result="([^"]*)"/.exec(labels)?.[1] ?? 'unknown';
        metrics.reconcilesByResult[result] = (metrics.reconcilesByResult[result] ?? 0) + value;
        break;
      }
      case 'novadocker_reconcile_duration_seconds_sum':
        metrics.reconcileSecondsSum += value;
        break;
      case 'novadocker_reconcile_duration_seconds_count':
        metrics.reconcileCount += value;
        break;
      case 'workqueue_queue_duration_seconds_sum':
        metrics.queueWaitSecondsSum += value;
        break;
      case 'workqueue_queue_duration_seconds_count':
        metrics.queueWaitCount += value;
        break;
      case 'nodejs_heap_size_used_bytes':
        metrics.heapUsedBytes = value;
        break;
      case 'nodejs_heap_size_total_bytes':
        metrics.heapTotalBytes = value;
        break;
      case 'nodejs_external_memory_bytes':
        metrics.externalBytes = value;
        break;
    }
  }
  return metrics;
}
