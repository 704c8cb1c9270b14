/** One row of the request counts: a service, method and route template with its responses. */
export interface RequestCount {
  service: string;
  method: string;
  route: string;
  count: number;
  /** Response counts by HTTP status code. */
  statuses: Record<string, number>;
}

/**
 * Counts API requests by service, method and route template (such as
 * /v2.1/servers/{server_id}), so benchmarks can tell how many calls a client made.
 */
export class RequestStats {
  private rows = new Map<string, RequestCount>();
  private since = new Date().toISOString();

  /** Records one finished request. */
  record(service: string, method: string, route: string, status: number): void {
    const key = `${service} ${method} ${route}`;
    let row = this.rows.get(key);
    if (!row) {
      row = { service, method, route, count: 0, statuses: {} };
      this.rows.set(key, row);
    }
    row.count += 1;
    row.statuses[status] = (row.statuses[status] ?? 0) + 1;
  }

  /** Returns the counts since the start or the last reset, sorted by service, route and method. */
  snapshot(): { since: string; total: number; requests: RequestCount[] } {
    const requests = [...this.rows.values()]
      .map((row) => ({ ...row, statuses: { ...row.statuses } }))
      .sort(
        (a, b) =>
          a.service.localeCompare(b.service) ||
          a.route.localeCompare(b.route) ||
          a.method.localeCompare(b.method),
      );
    return {
      since: this.since,
      total: requests.reduce((sum, row) => sum + row.count, 0),
      requests,
    };
  }

  /** Clears every count. */
  reset(): void {
    this.rows.clear();
    this.since = new Date().toISOString();
  }
}
