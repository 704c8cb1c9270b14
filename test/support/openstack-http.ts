/**
 * A minimal OpenStack HTTP session for tests that compare raw responses (status
 * codes, headers, error bodies), which a full client would hide behind its own
 * errors. It speaks to any Keystone v3 cloud: the dev cloud or the real test cloud.
 */

/** The services a session has endpoints for, by catalog type. */
export type ServiceType = 'identity' | 'compute' | 'image' | 'network';

export interface Session {
  token: string;
  projectId: string;
  endpoints: Record<ServiceType, string>;
}

export interface PasswordCredentials {
  authUrl: string;
  username: string;
  password: string;
  projectName: string;
  userDomainName?: string;
  projectDomainName?: string;
  /** Catalog region to pick endpoints from. @default the first endpoint of each service */
  region?: string;
}

/** A raw response: status, headers and the body parsed as JSON when it is JSON. */
export interface RawResponse {
  status: number;
  headers: Headers;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  text: string;
}

/** Issues a project-scoped token with a password; throws with the status and body when Keystone refuses. */
export async function passwordSession(credentials: PasswordCredentials): Promise<Session> {
  const authUrl = credentials.authUrl.replace(/\/+$/, '');
  const tokensUrl = /\/v3$/.test(authUrl) ? `${authUrl}/auth/tokens` : `${authUrl}/v3/auth/tokens`;
  const response = await fetch(tokensUrl, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({
      auth: {
        identity: {
          methods: ['password'],
          password: {
            user: {
              name: credentials.username,
              domain: { name: credentials.userDomainName ?? 'Default' },
              password: credentials.password,
            },
          },
        },
        scope: {
          project: {
            name: credentials.projectName,
            domain: { name: credentials.projectDomainName ?? 'Default' },
          },
        },
      },
    }),
  });
  const text = await response.text();
  if (response.status !== 201)
    throw new Error(`token request to ${tokensUrl} failed with ${response.status}: ${text}`);
  const token = JSON.parse(text).token as {
    project: { id: string };
    catalog: Array<{
      type: string;
      endpoints: Array<{ interface: string; region: string; url: string }>;
    }>;
  };
  const endpoints = {} as Record<ServiceType, string>;
  for (const type of ['identity', 'compute', 'image', 'network'] as const) {
    const service = token.catalog.find((entry) => entry.type === type);
    const endpoint = service?.endpoints.find(
      (candidate) =>
        candidate.interface === 'public' &&
        (!credentials.region || candidate.region === credentials.region),
    );
    if (!endpoint) throw new Error(`the catalog of ${authUrl} has no public ${type} endpoint`);
    endpoints[type] = endpoint.url.replace(/\/+$/, '');
  }
  return {
    token: response.headers.get('x-subject-token')!,
    projectId: token.project.id,
    endpoints,
  };
}

/**
 * Sends one request with the session's token. The microversion option sets the
 * compute microversion header. A body is sent as JSON unless contentType names another type.
 */
export async function call(
  session: Session,
  service: ServiceType,
  method: string,
  path: string,
  options: {
    body?: unknown;
    microversion?: string;
    headers?: Record<string, string>;
    contentType?: string;
  } = {},
): Promise<RawResponse> {
  const headers: Record<string, string> = {
    'X-Auth-Token': session.token,
    Accept: 'application/json',
    ...(options.headers ?? {}),
  };
  if (options.microversion) headers['OpenStack-API-Version'] = `compute ${options.microversion}`;
  let body: string | Buffer | undefined;
  if (options.body !== undefined) {
    headers['Content-Type'] = options.contentType ?? 'application/json';
    body = Buffer.isBuffer(options.body) ? options.body : JSON.stringify(options.body);
  }
  const base =
    service === 'network' && !/\/v2\.0$/.test(session.endpoints.network)
      ? `${session.endpoints.network}/v2.0`
      : session.endpoints[service];
  const response = await fetch(`${base}${path}`, { method, headers, body });
  const text = await response.text();
  let parsed: unknown = undefined;
  if (text !== '' && (response.headers.get('content-type') ?? '').includes('json'))
    parsed = JSON.parse(text);
  return { status: response.status, headers: response.headers, body: parsed, text };
}
