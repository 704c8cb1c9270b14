/**
 * A scriptable stand-in for Keystone and the service endpoints, on
 * 127.0.0.1, for the fault tests.
 *
 * Why a fake: real Keystone, Nova and Glance do not fail on demand. No
 * request makes them return 503 once, send Retry-After, reset a connection,
 * stall a response, or revoke a token while twenty requests are in flight. Everything a real service does produce is tested against the real
 * test cloud in test/integration/openstack.test.ts.
 */
import { once } from 'node:events';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';

import { cloudConfigFromString, type CloudConfig } from '../../../src/openstack/index.js';

/** One request as the fake saw it, with the time it arrived. */
export interface RecordedRequest {
  method: string;
  path: string;
  token: string | undefined;
  headers: http.IncomingHttpHeaders;
  receivedAt: number;
}

/** A handler for service requests; return false to fall through to a 404. */
export type FakeHandler = (
  request: http.IncomingMessage,
  response: http.ServerResponse,
  recorded: RecordedRequest,
) => boolean | Promise<boolean>;

/** The fake cloud: its URL, what it received, and the handler tests replace. */
export interface FakeOpenStack {
  baseUrl: string;
  requests: RecordedRequest[];
  /** Tokens issued so far, in order. */
  tokensIssued: string[];
  /** The test's handler for everything except POST /v3/auth/tokens and the compute version document. */
  handler: FakeHandler;
  /** Status of token responses; set 401 to reject credentials. @default 201 */
  authStatus: number;
  /** Keep connections open after a response. @default true */
  keepAlive: boolean;
  /** Lifetime of the tokens issued from now on, in milliseconds. @default 3600000 */
  tokenLifetimeMs: number;
  /** Returns a CloudConfig for a password cloud pointing at this fake. */
  config(extra?: string): CloudConfig;
  /** Requests to paths under the given prefix. */
  requestsTo(prefix: string): RecordedRequest[];
  close(): Promise<void>;
}

/** The password the fake cloud's config uses; tests search logs for it. */
export const fakePassword = 'pw-Zq81-never-log-me';

/** Starts a fake cloud on a free port of 127.0.0.1, over HTTPS when given a key and certificate. */
export async function startFakeOpenStack(
  options: { tls?: { key: string; cert: string } } = {},
): Promise<FakeOpenStack> {
  const server = options.tls ? https.createServer(options.tls) : http.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const scheme = options.tls ? 'https' : 'http';
  const baseUrl = `${scheme}://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const fake: FakeOpenStack = {
    baseUrl,
    requests: [],
    tokensIssued: [],
    handler: () => false,
    authStatus: 201,
    keepAlive: true,
    tokenLifetimeMs: 3600_000,
    config(extra = '') {
      return cloudConfigFromString(
        [
          'clouds:',
          '  fake:',
          '    auth:',
          `      auth_url: ${baseUrl}/identity/v3`,
          '      username: demo',
          `      password: ${fakePassword}`,
          '      project_name: demo',
          '      user_domain_name: Default',
          '      project_domain_name: Default',
          '    region_name: RegionOne',
          extra,
        ].join('\n'),
        { source: 'fake clouds.yaml' },
      );
    },
    requestsTo(prefix) {
      return fake.requests.filter((request) => request.path.startsWith(prefix));
    },
    async close() {
      if (!server.listening) return;
      const closed = once(server, 'close');
      server.close();
      server.closeAllConnections();
      await closed;
    },
  };

  server.on('request', (request: http.IncomingMessage, response: http.ServerResponse) => {
    const url = new URL(request.url ?? '/', baseUrl);
    const recorded: RecordedRequest = {
      method: request.method ?? 'GET',
      path: url.pathname + url.search,
      token: request.headers['x-auth-token'] as string | undefined,
      headers: request.headers,
      receivedAt: Date.now(),
    };
    fake.requests.push(recorded);
    if (!fake.keepAlive) response.setHeader('Connection', 'close');

    if (request.method === 'POST' && url.pathname === '/identity/v3/auth/tokens') {
      request.resume();
      if (fake.authStatus !== 201) {
        sendJson(response, fake.authStatus, {
          error: {
            code: fake.authStatus,
            message: 'The request you have made requires authentication.',
            title: 'Unauthorized',
          },
        });
        return;
      }
      const token = `tok-${fake.tokensIssued.length + 1}-gAAAAsecret`;
      fake.tokensIssued.push(token);
      response.setHeader('X-Subject-Token', token);
      sendJson(response, 201, tokenBody(baseUrl, fake.tokenLifetimeMs));
      return;
    }

    if (request.method === 'GET' && url.pathname === '/compute/v2.1/') {
      sendJson(response, 200, {
        version: { id: 'v2.1', status: 'CURRENT', version: '2.93', min_version: '2.1' },
      });
      return;
    }

    void Promise.resolve(fake.handler(request, response, recorded)).then((handled) => {
      if (!handled && !response.headersSent) {
        sendJson(response, 404, {
          itemNotFound: {
            code: 404,
            message: `no fake route for ${recorded.method} ${url.pathname}`,
          },
        });
      }
    });
  });

  return fake;
}

/** Sends a JSON response with an OpenStack request ID. */
export function sendJson(
  response: http.ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
    'X-Openstack-Request-Id': `req-${Math.random().toString(16).slice(2, 10)}`,
    ...headers,
  });
  response.end(text);
}

function tokenBody(baseUrl: string, lifetimeMs: number): unknown {
  const now = Date.now();
  const endpoint = (url: string) => [
    { id: 'e', interface: 'public', region_id: 'RegionOne', region: 'RegionOne', url },
  ];
  return {
    token: {
      methods: ['password'],
      issued_at: new Date(now).toISOString(),
      expires_at: new Date(now + lifetimeMs).toISOString(),
      user: { id: 'user-1', name: 'demo' },
      project: { id: 'project-1', name: 'demo' },
      catalog: [
        { type: 'identity', name: 'keystone', endpoints: endpoint(`${baseUrl}/identity/v3`) },
        { type: 'compute', name: 'nova', endpoints: endpoint(`${baseUrl}/compute/v2.1`) },
        { type: 'image', name: 'glance', endpoints: endpoint(`${baseUrl}/image`) },
        { type: 'network', name: 'neutron', endpoints: endpoint(`${baseUrl}/network`) },
      ],
    },
  };
}
