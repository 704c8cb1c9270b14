import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';

import type { Logger } from '../../observability/logger.js';
import type { ServiceName } from '../config.js';
import type { FaultInjector } from '../faults.js';
import type { TokenService } from '../keystone/tokens.js';
import type { RequestStats } from '../stats.js';
import { ApiError, renderError, type ErrorStyle } from './errors.js';
import type { RequestContext, Router } from './router.js';

/** One API served by the dev cloud: a router, its error style and its URL prefix in single-port mode. */
export interface Mount {
  name: ServiceName | 'admin';
  router: Router;
  style: ErrorStyle;
}

/** Path prefixes in single-port mode, as DevStack lays services out behind one web server. */
export const singlePortPrefixes: Record<Mount['name'], string> = {
  identity: '/identity',
  compute: '/compute',
  image: '/image',
  network: '/networking',
  admin: '/admin',
};

export interface ApiServerOptions {
  listenAddress: string;
  publicHost: string;
  /** One port for every mount (with prefixes), or one port per mount. */
  ports: number | Record<Mount['name'], number>;
  log: Logger;
  faults: FaultInjector;
  stats: RequestStats;
  tokens: TokenService;
  /** The Keystone URL to name in WWW-Authenticate on 401 responses. */
  authUrl(): string;
}

/**
 * Serves the mounts over node:http: assigns a request ID to every call, injects
 * configured faults, validates tokens for non-public routes, renders errors in
 * each service's style, counts requests and logs one JSON line per request.
 */
export class ApiServer {
  private servers: Server[] = [];
  private roots = {} as Record<Mount['name'], string>;

  constructor(
    private readonly mounts: Mount[],
    private readonly options: ApiServerOptions,
  ) {}

  /** Starts listening; resolves with the root URL of every mount. Rejects when a port is taken. */
  async listen(): Promise<Record<Mount['name'], string>> {
    const { ports } = this.options;
    if (typeof ports === 'number') {
      const server = createServer((req, res) => {
        const mount = this.mounts.find((candidate) => {
          const prefix = singlePortPrefixes[candidate.name];
          return (
            req.url === prefix ||
            req.url?.startsWith(`${prefix}/`) ||
            req.url?.startsWith(`${prefix}?`)
          );
        });
        if (!mount) {
          res.writeHead(404, { 'Content-Type': 'application/json' });
          res.end(
            JSON.stringify({
              error: {
                code: 404,
                message: `No service at ${req.url}; use one of ${Object.values(singlePortPrefixes).join(', ')}`,
              },
            }),
          );
          return;
        }
        void this.handle(mount, singlePortPrefixes[mount.name], req, res);
      });
      const port = await this.start(server, ports);
      for (const mount of this.mounts) {
        this.roots[mount.name] =
          `http://${this.options.publicHost}:${port}${singlePortPrefixes[mount.name]}`;
      }
    } else {
      for (const mount of this.mounts) {
        const server = createServer((req, res) => void this.handle(mount, '', req, res));
        const port = await this.start(server, ports[mount.name]);
        this.roots[mount.name] = `http://${this.options.publicHost}:${port}`;
      }
    }
    return { ...this.roots };
  }

  /** Stops accepting connections and closes idle ones; resolves when every listener is closed. */
  async close(): Promise<void> {
    await Promise.all(
      this.servers.map(async (server) => {
        const closed = once(server, 'close');
        server.close();
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), 2000).unref();
        await closed;
      }),
    );
    this.servers = [];
  }

  private async start(server: Server, port: number): Promise<number> {
    server.keepAliveTimeout = 30_000;
    // Glance image data streams for as long as the upload takes, so no whole-request timeout.
    server.requestTimeout = 0;
    this.servers.push(server);
    server.listen(port, this.options.listenAddress);
    await Promise.race([
      once(server, 'listening'),
      once(server, 'error').then(([err]) => {
        throw new Error(
          `cannot listen on ${this.options.listenAddress}:${port}: ${(err as Error).message}; choose another port or stop the process using it`,
        );
      }),
    ]);
    return (server.address() as AddressInfo).port;
  }

  private async handle(
    mount: Mount,
    prefix: string,
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<void> {
    const started = performance.now();
    const requestId = `req-${randomUUID()}`;
    const method = req.method ?? 'GET';
    res.setHeader('x-openstack-request-id', requestId);
    if (mount.name === 'compute') res.setHeader('x-compute-request-id', requestId);

    const url = new URL(req.url ?? '/', 'http://devcloud.invalid');
    const path = url.pathname.slice(prefix.length) || '/';
    const log = this.options.log.child({ requestID: requestId, service: mount.name });
    let route = '(unmatched)';

    res.once('close', () => {
      const durationMs = Math.round((performance.now() - started) * 10) / 10;
      // Admin calls are the benchmark's own bookkeeping, so they stay out of the counts.
      if (mount.name !== 'admin')
        this.options.stats.record(mount.name, method, route, res.statusCode);
      log.info({ method, route, path, status: res.statusCode, durationMs }, 'request');
    });

    try {
      if (mount.name !== 'admin') {
        const injected = await this.options.faults.beforeRequest(mount.name);
        if (injected) throw injected;
      }

      let match;
      try {
        match = mount.router.match(method, path);
      } catch {
        throw new ApiError(400, `Malformed request URL: ${path}`);
      }
      if (match.kind === 'not-found') throw new ApiError(404, 'The resource could not be found.');
      if (match.kind === 'method-not-allowed') {
        route = match.template;
        throw new ApiError(405, `The method ${method} is not allowed for this resource.`, {
          headers: { Allow: match.allowed.join(', ') },
        });
      }
      route = match.route.template;

      const ctx: RequestContext = {
        req,
        res,
        params: match.params,
        query: url.searchParams,
        path,
        serviceUrl: this.roots[mount.name],
        requestId,
        log,
      };
      if (!match.route.public) {
        const token = req.headers['x-auth-token'];
        ctx.auth = this.options.tokens.validate(typeof token === 'string' ? token : undefined);
      }
      await match.route.handler(ctx);
    } catch (err) {
      this.fail(mount, req, res, err, log);
    }
  }

  private fail(
    mount: Mount,
    req: IncomingMessage,
    res: ServerResponse,
    err: unknown,
    log: Logger,
  ): void {
    let error: ApiError;
    if (err instanceof ApiError) {
      error = err;
    } else {
      log.error({ err }, 'request failed with an unexpected error');
      error = new ApiError(500, `Unexpected API Error: ${(err as Error).message ?? String(err)}`);
    }
    if (res.headersSent) {
      res.destroy(error);
      return;
    }
    if (error.status === 401)
      res.setHeader('WWW-Authenticate', `Keystone uri="${this.options.authUrl()}"`);
    // Tokens are checked by keystonemiddleware in front of every real service, so a 401 has Keystone's shape everywhere.
    const style = error.status === 401 ? 'keystone' : mount.style;
    const rendered = renderError(error, style, req.headers.accept);
    // Drain an unread request body, so the connection stays usable for the next request.
    req.resume();
    res.writeHead(rendered.status, {
      ...rendered.headers,
      'Content-Length': Buffer.byteLength(rendered.body),
    });
    res.end(rendered.body);
  }
}
