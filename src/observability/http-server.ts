import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

import type { Registry } from 'prom-client';

import type { Logger } from './logger.js';

/** One readiness check: its name and whether it passes, with a short detail for the /readyz body. */
export interface ReadinessCheck {
  name: string;
  check: () => { ok: boolean; detail: string };
}

/** Settings of an ObservabilityServer. */
export interface ObservabilityServerOptions {
  /** Listen address `host:port`, `:port` (all interfaces) or `[v6]:port`; port 0 picks a free port. */
  address: string;
  /** Serve /metrics from this registry. */
  registry?: Registry;
  /** Serve /healthz and /readyz; /readyz fails while any check fails. */
  readiness?: ReadinessCheck[];
  logger: Logger;
  /** Name in logs, e.g. "metrics" or "health". */
  name: string;
}

/** A parsed listen address. */
export interface ListenAddress {
  host: string | undefined;
  port: number;
}

/**
 * Parses a bind address as controller-runtime's flags take it: `:8080`
 * (all interfaces), `127.0.0.1:8080`, `[::1]:8080`. Throws naming the value
 * when the port is missing or out of range.
 */
export function parseListenAddress(address: string): ListenAddress {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d+)$/.exec(address.trim());
  const port = match ? Number(match[3]) : NaN;
  if (!match || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(
      `invalid bind address "${address}": expected host:port, :port or [ipv6]:port with a port from 0 to 65535`,
    );
  }
  const host = match[1] ?? match[2];
  return { host: host ? host : undefined, port };
}

/**
 * An HTTP server for /metrics, /healthz and /readyz. /healthz returns 200
 * while the process serves requests. /readyz returns 200 only while every
 * readiness check passes and lists each check in the body as `[+]name detail`
 * or `[-]name detail`, the format of kube-apiserver's verbose /readyz.
 */
export class ObservabilityServer {
  private readonly server: http.Server;

  constructor(private readonly options: ObservabilityServerOptions) {
    this.server = http.createServer((request, response) => {
      void this.handle(request, response);
    });
  }

  /** Starts listening and returns the bound address; rejects when the address is taken or invalid. */
  async listen(): Promise<AddressInfo> {
    const { host, port } = parseListenAddress(this.options.address);
    this.server.listen(port, host);
    await Promise.race([
      once(this.server, 'listening'),
      once(this.server, 'error').then(([err]) => {
        throw new Error(
          `${this.options.name} server cannot listen on ${this.options.address}: ${(err as Error).message}`,
        );
      }),
    ]);
    const bound = this.server.address() as AddressInfo;
    this.options.logger.info(
      { server: this.options.name, address: `${formatHost(bound)}:${bound.port}` },
      'HTTP server listening',
    );
    return bound;
  }

  /** Stops accepting connections and closes idle ones; resolves when closed. */
  async close(): Promise<void> {
    if (!this.server.listening) return;
    const closed = once(this.server, 'close');
    this.server.close();
    this.server.closeIdleConnections();
    await closed;
  }

  private async handle(
    request: http.IncomingMessage,
    response: http.ServerResponse,
  ): Promise<void> {
    const path = (request.url ?? '/').split('?')[0];
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      respond(response, 405, 'method not allowed; use GET\n');
      return;
    }
    try {
      if (path === '/metrics' && this.options.registry) {
        const body = await this.options.registry.metrics();
        respond(response, 200, body, this.options.registry.contentType);
      } else if (path === '/healthz' && this.options.readiness) {
        respond(response, 200, 'ok\n');
      } else if (path === '/readyz' && this.options.readiness) {
        const results = this.options.readiness.map(({ name, check }) => ({ name, ...check() }));
        const ready = results.every((result) => result.ok);
        const lines = results.map(
          (result) => `[${result.ok ? '+' : '-'}]${result.name} ${result.detail}`,
        );
        respond(
          response,
          ready ? 200 : 503,
          `${lines.join('\n')}\n${ready ? 'ok' : 'not ready'}\n`,
        );
      } else {
        respond(response, 404, `not found: ${path}\n`);
      }
    } catch (err) {
      this.options.logger.error({ err, path }, 'HTTP handler failed');
      respond(response, 500, 'internal error\n');
    }
  }
}

function respond(
  response: http.ServerResponse,
  status: number,
  body: string,
  contentType = 'text/plain; charset=utf-8',
): void {
  response.writeHead(status, { 'Content-Type': contentType, 'Cache-Control': 'no-store' });
  response.end(body);
}

function formatHost(address: AddressInfo): string {
  return address.family === 'IPv6' ? `[${address.address}]` : address.address;
}
