/**
 * OpenStack API calls the operator made, from the dev cloud's admin endpoint
 * (`GET /stats`), which counts every request by service, method and route
 * template. Snapshots taken before and after a phase are subtracted.
 */

/** Call counts keyed `service METHOD route`, such as `compute GET /v2.1/servers/detail`. */
export type CallCounts = Map<string, number>;

interface StatsBody {
  requests: { service: string; method: string; route: string; count: number }[];
}

/**
 * Reads the dev cloud's request counts. The benchmark never calls the
 * OpenStack APIs itself, so every count is the operator's. Rejects when the
 * admin endpoint does not return 200.
 */
export async function readCallCounts(adminUrl: string): Promise<CallCounts> {
  const response = await fetch(`${adminUrl}/stats`);
  if (!response.ok) {
    throw new Error(
      `GET ${adminUrl}/stats failed with ${response.status}: ${(await response.text()).slice(0, 300)}`,
    );
  }
  const body = (await response.json()) as StatsBody;
  const counts: CallCounts = new Map();
  for (const row of body.requests) {
    // The admin endpoint counts its own requests too; they are the benchmark's, not the operator's.
    if (row.service === 'admin') continue;
    counts.set(`${row.service} ${row.method} ${row.route}`, row.count);
  }
  return counts;
}

/** Returns after minus before, dropping keys that end at zero. */
export function subtractCalls(after: CallCounts, before: CallCounts): CallCounts {
  const delta: CallCounts = new Map();
  for (const [key, value] of after) {
    const count = value - (before.get(key) ?? 0);
    if (count > 0) delta.set(key, count);
  }
  return delta;
}

/** Returns the sum of all counts. */
export function totalCalls(counts: CallCounts): number {
  let total = 0;
  for (const value of counts.values()) total += value;
  return total;
}

/** Sums counts by `service METHOD`, dropping the route. */
export function callsByServiceAndMethod(counts: CallCounts): CallCounts {
  const grouped: CallCounts = new Map();
  for (const [key, value] of counts) {
    const [service, method] = key.split(' ');
    const group = `${service} ${method}`;
    grouped.set(group, (grouped.get(group) ?? 0) + value);
  }
  return grouped;
}
