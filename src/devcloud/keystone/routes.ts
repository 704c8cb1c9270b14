import type { ServerResponse } from 'node:http';

import { ApiError } from '../http/errors.js';
import { readJson, sendEmpty, sendJson } from '../http/io.js';
import { Router, type RequestContext } from '../http/router.js';
import { stableId, type Fixtures } from '../fixtures.js';
import type { ServiceName } from '../config.js';
import type { UserRecord } from '../model.js';
import { unauthorizedMessage, type TokenInfo, type TokenService } from './tokens.js';

/** Dependencies of the Keystone routes. */
export interface KeystoneDeps {
  fixtures: Fixtures;
  tokens: TokenService;
  region: string;
  /** Catalog URLs by service, known once the servers listen. */
  endpoints(): Record<ServiceName, string>;
}

const serviceTypes: Record<ServiceName, { type: string; name: string }> = {
  identity: { type: 'identity', name: 'keystone' },
  compute: { type: 'compute', name: 'nova' },
  image: { type: 'image', name: 'glance' },
  network: { type: 'network', name: 'neutron' },
};

/** Builds the Keystone v3 routes: version documents, token issue, validation, revocation and catalog. */
export function keystoneRouter(deps: KeystoneDeps): Router {
  const router = new Router();

  router.add(
    'GET',
    '/',
    async (ctx) => {
      sendJson(ctx.res, 300, { versions: { values: [versionDocument(ctx)] } });
    },
    { public: true },
  );
  router.add(
    'GET',
    '/v3',
    async (ctx) => {
      sendJson(ctx.res, 200, { version: versionDocument(ctx) });
    },
    { public: true },
  );

  router.add(
    'POST',
    '/v3/auth/tokens',
    async (ctx) => {
      const info = authenticate(deps, await readJson(ctx.req));
      const { token, info: issued } = deps.tokens.issue(info);
      const noCatalog = ctx.query.has('nocatalog');
      ctx.log.info(
        { userId: issued.userId, projectId: issued.projectId, methods: issued.methods },
        'token issued',
      );
      sendJson(
        ctx.res,
        201,
        { token: tokenBody(deps, issued, !noCatalog) },
        { 'X-Subject-Token': token },
      );
    },
    { public: true },
  );

  router.add('GET', '/v3/auth/tokens', async (ctx) => {
    const subject = subjectToken(deps, ctx);
    sendJson(
      ctx.res,
      200,
      { token: tokenBody(deps, subject, !ctx.query.has('nocatalog')) },
      {
        'X-Subject-Token': String(ctx.req.headers['x-subject-token']),
      },
    );
  });
  router.add('HEAD', '/v3/auth/tokens', async (ctx) => {
    subjectToken(deps, ctx);
    sendEmpty(ctx.res, 200);
  });
  router.add('DELETE', '/v3/auth/tokens', async (ctx) => {
    deps.tokens.revoke(subjectToken(deps, ctx));
    sendEmpty(ctx.res, 204);
  });

  router.add('GET', '/v3/auth/catalog', async (ctx) => {
    sendJson(ctx.res, 200, {
      catalog: catalog(deps),
      links: { self: `${ctx.serviceUrl}/v3/auth/catalog`, next: null, previous: null },
    });
  });
  router.add('GET', '/v3/auth/projects', async (ctx) => {
    sendJson(ctx.res, 200, {
      projects: [projectView(deps.fixtures, ctx)],
      links: { self: `${ctx.serviceUrl}/v3/auth/projects`, next: null, previous: null },
    });
  });
  return router;
}

function versionDocument(ctx: RequestContext): Record<string, unknown> {
  return {
    id: 'v3.14',
    status: 'stable',
    updated: '2020-04-07T00:00:00Z',
    links: [{ rel: 'self', href: `${ctx.serviceUrl}/v3/` }],
    'media-types': [
      { base: 'application/json', type: 'application/vnd.openstack.identity-v3+json' },
    ],
  };
}

function projectView(fixtures: Fixtures, ctx: RequestContext): Record<string, unknown> {
  const { project } = fixtures;
  return {
    id: project.id,
    name: project.name,
    domain_id: project.domainId,
    enabled: true,
    is_domain: false,
    parent_id: project.domainId,
    description: '',
    tags: [],
    links: { self: `${ctx.serviceUrl}/v3/projects/${project.id}` },
  };
}

function subjectToken(deps: KeystoneDeps, ctx: RequestContext): TokenInfo {
  const header = ctx.req.headers['x-subject-token'];
  if (typeof header !== 'string' || header === '') {
    throw new ApiError(400, 'Expecting to find X-Subject-Token in request headers.');
  }
  try {
    return deps.tokens.validate(header);
  } catch {
    throw new ApiError(404, `Could not find token: ${header.slice(0, 12)}...`);
  }
}

type AuthInfo = Omit<TokenInfo, 'issuedAt' | 'expiresAt' | 'auditId'>;

/** Checks a POST /v3/auth/tokens body and returns the identity to issue a token for; throws 400 or 401. */
function authenticate(deps: KeystoneDeps, body: unknown): AuthInfo {
  const auth = field(body, 'auth');
  const identity = field(auth, 'identity');
  const methods = (identity as { methods?: unknown }).methods;
  if (!Array.isArray(methods) || methods.length === 0) {
    throw new ApiError(
      400,
      'Invalid input for field \'identity/methods\': expected a non-empty list such as ["password"].',
    );
  }
  const { fixtures } = deps;

  if (methods.includes('application_credential')) {
    const credential = field(identity, 'application_credential') as {
      id?: string;
      name?: string;
      secret?: string;
    };
    if ((auth as { scope?: unknown }).scope !== undefined) {
      throw new ApiError(401, 'Application credentials cannot request a scope.');
    }
    const known = fixtures.applicationCredential;
    const matches = credential.id ? credential.id === known.id : credential.name === known.name;
    if (!matches || credential.secret !== known.secret)
      throw new ApiError(401, unauthorizedMessage);
    const user = fixtures.users.find((candidate) => candidate.id === known.userId)!;
    return {
      ...identityFor(fixtures, user, ['application_credential']),
      applicationCredentialId: known.id,
    };
  }

  if (!methods.includes('password')) {
    throw new ApiError(
      401,
      `Attempted to authenticate with an unsupported method: ${methods.join(', ')}.`,
    );
  }
  const password = field(identity, 'password');
  const requested = field(password, 'user') as {
    id?: string;
    name?: string;
    password?: string;
    domain?: { id?: string; name?: string };
  };
  const user = fixtures.users.find((candidate) =>
    requested.id
      ? candidate.id === requested.id
      : candidate.name === requested.name && domainMatches(fixtures, requested.domain),
  );
  if (!user || requested.password !== user.password) throw new ApiError(401, unauthorizedMessage);

  const scope = (auth as { scope?: Record<string, unknown> }).scope;
  if (scope !== undefined) {
    const project = scope.project as
      { id?: string; name?: string; domain?: { id?: string; name?: string } } | undefined;
    const ok =
      project &&
      (project.id
        ? project.id === fixtures.project.id
        : project.name === fixtures.project.name && domainMatches(fixtures, project.domain));
    if (!ok) throw new ApiError(401, unauthorizedMessage);
  }
  return identityFor(fixtures, user, ['password']);
}

function identityFor(fixtures: Fixtures, user: UserRecord, methods: string[]): AuthInfo {
  return {
    userId: user.id,
    userName: user.name,
    projectId: fixtures.project.id,
    projectName: fixtures.project.name,
    domainId: fixtures.domainId,
    domainName: fixtures.domainName,
    roles: user.roles,
    methods,
  };
}

function domainMatches(
  fixtures: Fixtures,
  domain: { id?: string; name?: string } | undefined,
): boolean {
  if (!domain) return false;
  return domain.id ? domain.id === fixtures.domainId : domain.name === fixtures.domainName;
}

function field(value: unknown, name: string): Record<string, unknown> {
  const found = (value as Record<string, unknown> | undefined)?.[name];
  if (typeof found !== 'object' || found === null || Array.isArray(found)) {
    throw new ApiError(
      400,
      `Expecting to find ${name} in the request body. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.`,
    );
  }
  return found as Record<string, unknown>;
}

function tokenBody(
  deps: KeystoneDeps,
  info: TokenInfo,
  withCatalog: boolean,
): Record<string, unknown> {
  const domain = { id: info.domainId, name: info.domainName };
  const body: Record<string, unknown> = {
    methods: info.methods,
    user: { id: info.userId, name: info.userName, domain, password_expires_at: null },
    audit_ids: [info.auditId],
    expires_at: info.expiresAt,
    issued_at: info.issuedAt,
    project: { id: info.projectId, name: info.projectName, domain },
    is_domain: false,
    roles: info.roles.map((name) => ({ id: stableId('role', name).replace(/-/g, ''), name })),
  };
  if (info.applicationCredentialId) {
    body.application_credential = {
      id: info.applicationCredentialId,
      name: deps.fixtures.applicationCredential.name,
      restricted: true,
    };
  }
  if (withCatalog) body.catalog = catalog(deps);
  return body;
}

/** Returns the service catalog: public and internal endpoints for identity, compute, image and network. */
function catalog(deps: KeystoneDeps): Array<Record<string, unknown>> {
  const urls = deps.endpoints();
  return (Object.keys(serviceTypes) as ServiceName[]).map((service) => ({
    id: stableId('service', service).replace(/-/g, ''),
    type: serviceTypes[service].type,
    name: serviceTypes[service].name,
    endpoints: ['public', 'internal'].map((iface) => ({
      id: stableId('endpoint', `${service}-${iface}`).replace(/-/g, ''),
      interface: iface,
      region: deps.region,
      region_id: deps.region,
      url: urls[service],
    })),
  }));
}

/** Adds Keystone's WWW-Authenticate header to a 401 response, as keystonemiddleware does. */
export function wwwAuthenticate(res: ServerResponse, authUrl: string): void {
  res.setHeader('WWW-Authenticate', `Keystone uri="${authUrl}"`);
}
