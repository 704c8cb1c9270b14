/**
 * Kubernetes API request counts from kube-apiserver's own
 * `apiserver_request_total` counter, and the time it spent on them from
 * `apiserver_request_duration_seconds`, read before and after a phase of a
 * benchmark and subtracted.
 */
import type { KubeClient, RequestTally } from './kube-client.js';

/** Request counts keyed `VERB resource[/subresource]`, such as `PATCH containerinstances/status`. */
export type RequestCounts = Map<string, number>;

/** Verbs that change state in etcd, as apiserver_request_total names them. */
export const WRITE_VERBS: ReadonlySet<string> = new Set([
  'POST',
  'PUT',
  'PATCH',
  'APPLY',
  'DELETE',
  'DELETECOLLECTION',
]);

const COUNT_METRIC = 'apiserver_request_total';
const SECONDS_METRIC = 'apiserver_request_duration_seconds_sum';

/** Request counts and the seconds kube-apiserver spent serving them, both by verb and resource. */
export interface ApiserverRequests {
  counts: RequestCounts;
  seconds: RequestCounts;
}

/**
 * Reads /metrics and sums apiserver_request_total and
 * apiserver_request_duration_seconds over status codes, scopes and versions
 * into values by verb and resource. Non-resource requests (like /metrics
 * itself) have an empty resource label and are left out. Rejects when
 * /metrics does not return 200.
 */
export async function readApiserverRequests(client: KubeClient): Promise<ApiserverRequests> {
  const response = await client.request<string>('GET', '/metrics');
  if (response.status !== 200) {
    throw new Error(
      `GET /metrics on ${client.server} failed with ${response.status}: ${String(response.body).slice(0, 300)}`,
    );
  }
  return {
    counts: parseRequestCounts(response.body),
    seconds: parseRequestCounts(response.body, SECONDS_METRIC),
  };
}

/**
 * Parses one per-request metric of the Prometheus text exposition
 * (apiserver_request_total unless `metric` names another) into values by
 * verb and resource.
 */
export function parseRequestCounts(text: string, metric = COUNT_METRIC): RequestCounts {
  const counts: RequestCounts = new Map();
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${metric}{`)) continue;
    const close = line.lastIndexOf('}');
    const labels = parseLabels(line.slice(metric.length + 1, close));
    const value = Number(
      line
        .slice(close + 1)
        .trim()
        .split(' ')[0],
    );
    if (!labels.resource || !Number.isFinite(value)) continue;
    const resource = labels.subresource
      ? `${labels.resource}/${labels.subresource}`
      : labels.resource;
    const key = `${labels.verb} ${resource}`;
    counts.set(key, (counts.get(key) ?? 0) + value);
  }
  return counts;
}

function parseLabels(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const match of text.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) {
    labels[match[1]!] = match[2]!;
  }
  return labels;
}

/**
 * Returns after minus before, minus the requests the benchmark itself sent
 * in between (its tally deltas), dropping keys that end at zero.
 */
export function subtractCounts(
  after: RequestCounts,
  before: RequestCounts,
  ownBefore?: RequestTally,
  ownAfter?: RequestTally,
): RequestCounts {
  const delta: RequestCounts = new Map();
  for (const [key, value] of after) {
    const own = (ownAfter?.get(key) ?? 0) - (ownBefore?.get(key) ?? 0);
    const count = value - (before.get(key) ?? 0) - own;
    if (count > 0) delta.set(key, count);
  }
  return delta;
}

/**
 * Resources the operator reads or writes: its own resource, the Secrets it
 * reads clouds.yaml and pull credentials from, and Events (core and
 * events.k8s.io both use the resource name `events`).
 */
const OPERATOR_RESOURCES: ReadonlySet<string> = new Set([
  'containerinstances',
  'secrets',
  'events',
]);

/**
 * Splits request counts into those the operator sent and those
 * kube-apiserver sends for itself, by resource. kube-apiserver renews its
 * identity Lease in kube-system about every 10 s and its controllers list
 * services and the like. The benchmark runs the operator without leader
 * election, so the operator touches no Lease.
 */
export function attributeCounts(counts: RequestCounts): {
  operator: RequestCounts;
  apiserver: RequestCounts;
} {
  const operator: RequestCounts = new Map();
  const apiserver: RequestCounts = new Map();
  for (const [key, value] of counts) {
    const resource = (key.split(' ')[1] ?? '').split('/')[0]!;
    (OPERATOR_RESOURCES.has(resource) ? operator : apiserver).set(key, value);
  }
  return { operator, apiserver };
}

/** Returns the sum of the counts whose verb is a write. */
export function totalWrites(counts: RequestCounts): number {
  let total = 0;
  for (const [key, value] of counts) {
    if (WRITE_VERBS.has(key.split(' ')[0]!)) total += value;
  }
  return total;
}

/** Returns the sum of all counts. */
export function totalRequests(counts: RequestCounts): number {
  let total = 0;
  for (const value of counts.values()) total += value;
  return total;
}
