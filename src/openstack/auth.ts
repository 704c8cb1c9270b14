/**
 * Keystone v3 authentication: the request body for each auth type, and the
 * token and catalog read from the response.
 */
import type { AuthScope, CloudAuth } from './config.js';
import { OpenStackError } from './errors.js';
import { Secret } from './secret.js';
import type { Transport } from './transport.js';

/** One endpoint of a catalog entry. */
export interface CatalogEndpoint {
  interface: string;
  regionId?: string;
  url: string;
}

/** One service of the Keystone catalog. */
export interface CatalogEntry {
  type: string;
  name?: string;
  endpoints: CatalogEndpoint[];
}

/** A Keystone token with what the client needs from its body. */
export interface Token {
  value: Secret;
  /** Expiry, in milliseconds since the epoch. */
  expiresAt: number;
  /** Issue time, in milliseconds since the epoch. */
  issuedAt: number;
  userId: string;
  projectId?: string;
  projectName?: string;
  catalog: CatalogEntry[];
}

/**
 * Issues a token with `POST /v3/auth/tokens`. Throws {@link OpenStackError}
 * (class `unauthorized` for rejected credentials) and never puts the
 * credential in the error.
 */
export async function issueToken(
  transport: Transport,
  auth: CloudAuth,
  signal?: AbortSignal,
): Promise<Token> {
  const url = `${auth.authUrl}/auth/tokens`;
  const response = await transport.request<{ token?: KeystoneToken }>({
    service: 'identity',
    method: 'POST',
    url,
    route: '/v3/auth/tokens',
    json: authRequestBody(auth),
    // Issuing a second token is harmless, so a failed attempt may be repeated.
    idempotent: true,
    ...(signal === undefined ? {} : { signal }),
  });

  const value = response.headers.get('x-subject-token');
  const body = response.body?.token;
  const path = new URL(url).pathname;
  if (!value || !body) {
    throw new OpenStackError({
      service: 'identity',
      method: 'POST',
      path,
      status: response.status,
      message:
        'Keystone returned no X-Subject-Token header or token body; check that auth_url points at Keystone v3',
      ...(response.requestId === undefined ? {} : { requestId: response.requestId }),
      errorClass: 'serverError',
    });
  }

  const token: Token = {
    value: new Secret(value),
    expiresAt: Date.parse(body.expires_at ?? '') || Date.now() + 3600_000,
    issuedAt: Date.parse(body.issued_at ?? '') || Date.now(),
    userId: body.user?.id ?? '',
    catalog: (body.catalog ?? []).map((entry) => ({
      type: entry.type,
      ...(entry.name === undefined ? {} : { name: entry.name }),
      endpoints: (entry.endpoints ?? []).map((endpoint) => ({
        interface: endpoint.interface,
        url: endpoint.url,
        ...((endpoint.region_id ?? endpoint.region)
          ? { regionId: (endpoint.region_id ?? endpoint.region)! }
          : {}),
      })),
    })),
  };
  if (body.project?.id !== undefined) token.projectId = body.project.id;
  if (body.project?.name !== undefined) token.projectName = body.project.name;
  return token;
}

interface KeystoneToken {
  expires_at?: string;
  issued_at?: string;
  user?: { id: string };
  project?: { id: string; name?: string };
  catalog?: Array<{
    type: string;
    name?: string;
    endpoints?: Array<{ interface: string; url: string; region_id?: string; region?: string }>;
  }>;
}

/** Builds the JSON body of `POST /v3/auth/tokens` for the given credentials. */
export function authRequestBody(auth: CloudAuth): Record<string, unknown> {
  switch (auth.type) {
    case 'password':
      return {
        auth: {
          identity: {
            methods: ['password'],
            password: { user: { ...userReference(auth), password: auth.password.reveal() } },
          },
          ...scopeBody(auth.scope),
        },
      };

    case 'v3applicationcredential': {
      const credential: Record<string, unknown> =
        auth.id !== undefined ? { id: auth.id } : { name: auth.name, user: userReference(auth) };
      credential.secret = auth.secret.reveal();
      return {
        auth: {
          identity: { methods: ['application_credential'], application_credential: credential },
        },
      };
    }

    case 'token':
      return {
        auth: {
          identity: { methods: ['token'], token: { id: auth.token.reveal() } },
          ...scopeBody(auth.scope),
        },
      };
  }
}

function userReference(user: {
  userId?: string;
  username?: string;
  userDomainId?: string;
  userDomainName?: string;
}): Record<string, unknown> {
  if (user.userId !== undefined) return { id: user.userId };
  return { name: user.username, domain: domainReference(user.userDomainId, user.userDomainName) };
}

function domainReference(id: string | undefined, name: string | undefined): Record<string, string> {
  return id !== undefined ? { id } : { name: name! };
}

function scopeBody(scope: AuthScope): Record<string, unknown> {
  if (scope.projectId !== undefined) return { scope: { project: { id: scope.projectId } } };
  if (scope.projectName !== undefined) {
    return {
      scope: {
        project: {
          name: scope.projectName,
          domain: domainReference(scope.projectDomainId, scope.projectDomainName),
        },
      },
    };
  }
  if (scope.system !== undefined) return { scope: { system: { [scope.system]: true } } };
  if (scope.domainId !== undefined || scope.domainName !== undefined) {
    return { scope: { domain: domainReference(scope.domainId, scope.domainName) } };
  }
  return {};
}
