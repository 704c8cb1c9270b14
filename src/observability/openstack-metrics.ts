import type { Logger } from './logger.js';
import type { OperatorMetrics } from './metrics.js';

/** One finished OpenStack API request, as the OpenStack client's request observer reports it. */
export interface OpenStackRequestEvent {
  /** Catalog service type, e.g. "compute", "image", "network", "identity". */
  service: string;
  /** HTTP method, e.g. "GET". */
  method: string;
  /** Path template with IDs replaced, e.g. "/servers/{id}"; used in logs, not as a metric label. */
  route: string;
  /** HTTP status code; absent when no response arrived. */
  status?: number;
  durationMs: number;
  /** The x-openstack-request-id (or x-compute-request-id) of the response, when present. */
  requestId?: string;
  /** Class or cause of the failure, when the attempt failed. */
  error?: unknown;
  /** 1 for the first attempt, 2 for the first retry, and so on. */
  attempt?: number;
}

/** The hook the OpenStack client calls after every request. */
export type OpenStackRequestObserver = (event: OpenStackRequestEvent) => void;

/**
 * Returns an observer that counts each request and its latency by service,
 * method and status code, and logs it at debug level with its request ID.
 * The observer never throws, so a metrics problem cannot fail a request.
 */
export function openStackRequestObserver(
  metrics: OperatorMetrics,
  logger?: Logger,
): OpenStackRequestObserver {
  return (event) => {
    try {
      const labels = {
        service: event.service,
        method: event.method.toUpperCase(),
        code: event.status === undefined ? 'error' : String(event.status),
      };
      metrics.openstackRequests.inc(labels);
      metrics.openstackRequestDuration.observe(labels, Math.max(event.durationMs, 0) / 1000);
      logger?.debug(
        {
          service: event.service,
          method: labels.method,
          route: event.route,
          status: event.status,
          durationMs: Math.round(event.durationMs),
          requestID: event.requestId,
          attempt: event.attempt,
          ...(event.error === undefined ? {} : { err: event.error }),
        },
        'openstack request',
      );
    } catch (err) {
      logger?.warn({ err }, 'failed to record an OpenStack request metric');
    }
  };
}
