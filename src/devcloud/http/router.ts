import type { IncomingMessage, ServerResponse } from 'node:http';

import type { Logger } from '../../observability/logger.js';
import type { TokenInfo } from '../keystone/tokens.js';

/** Request context a route handler receives. */
export interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  /** Path parameters by name, URL-decoded. */
  params: Record<string, string>;
  query: URLSearchParams;
  /** Path inside the service, without the service prefix. */
  path: string;
  /** Absolute URL of the service root as the client reached it, without a trailing slash. */
  serviceUrl: string;
  requestId: string;
  /** The validated token; set on every route that is not public. */
  auth?: TokenInfo;
  log: Logger;
}

export type Handler = (ctx: RequestContext) => Promise<void>;

interface Route {
  method: string;
  template: string;
  pattern: RegExp;
  paramNames: string[];
  handler: Handler;
  public: boolean;
}

/** Result of matching a path: the route, or whether only the method was wrong. */
export type RouteMatch =
  | {
      kind: 'found';
      route: { template: string; handler: Handler; public: boolean };
      params: Record<string, string>;
    }
  | { kind: 'method-not-allowed'; template: string; allowed: string[] }
  | { kind: 'not-found' };

/**
 * Matches method and path against templates such as /v2.1/servers/{server_id}.
 * Routes are tried in registration order, so a literal segment (servers/detail)
 * must be added before the parameter route that would also match it.
 */
export class Router {
  private readonly routes: Route[] = [];

  /** Adds a route; public routes skip token validation (version documents, token issue). */
  add(
    method: string,
    template: string,
    handler: Handler,
    options: { public?: boolean } = {},
  ): this {
    const paramNames: string[] = [];
    const source = template
      .split('/')
      .map((segment) => {
        const param = /^\{(\w+)\}$/.exec(segment);
        if (!param) return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        paramNames.push(param[1]!);
        return '([^/]+)';
      })
      .join('/');
    this.routes.push({
      method,
      template,
      pattern: new RegExp(`^${source}/?$`),
      paramNames,
      handler,
      public: options.public ?? false,
    });
    return this;
  }

  /** Finds the route for a request. HEAD falls back to the GET route. */
  match(method: string, path: string): RouteMatch {
    const allowed: string[] = [];
    let template = '';
    for (const route of this.routes) {
      const found = route.pattern.exec(path);
      if (!found) continue;
      if (
        route.method === method ||
        (method === 'HEAD' && route.method === 'GET' && !this.hasHead(route.template))
      ) {
        const params: Record<string, string> = {};
        route.paramNames.forEach((name, index) => {
          params[name] = decodeURIComponent(found[index + 1]!);
        });
        return { kind: 'found', route, params };
      }
      allowed.push(route.method);
      template ||= route.template;
    }
    return allowed.length > 0
      ? { kind: 'method-not-allowed', template, allowed }
      : { kind: 'not-found' };
  }

  private hasHead(template: string): boolean {
    return this.routes.some((route) => route.method === 'HEAD' && route.template === template);
  }
}
