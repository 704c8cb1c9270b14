/**
 * The credential part of a clouds.yaml entry: the auth type, the user, the
 * secret and the scope, validated into a {@link CloudAuth}.
 */
import type { AuthScope, CloudAuth } from './config.js';
import { Secret } from './secret.js';

/** Reports a problem with a key of the entry; it throws CloudConfigError. */
export type Fail = (key: string | undefined, problem: string) => never;

/** Keys the auth mapping may contain. */
export const authKeys = new Set([
  'auth_url',
  'username',
  'user_id',
  'password',
  'project_name',
  'project_id',
  'tenant_name',
  'tenant_id',
  'user_domain_name',
  'user_domain_id',
  'project_domain_name',
  'project_domain_id',
  'domain_name',
  'domain_id',
  'default_domain_name',
  'default_domain_id',
  'application_credential_id',
  'application_credential_name',
  'application_credential_secret',
  'token',
  'system_scope',
]);

const authTypeAliases: Record<string, CloudAuth['type']> = {
  password: 'password',
  v3password: 'password',
  v3applicationcredential: 'v3applicationcredential',
  application_credential: 'v3applicationcredential',
  token: 'token',
  v3token: 'token',
};

/**
 * Builds the credentials from the auth mapping (read through authText) and
 * the cloud-level auth_type; calls fail on the first invalid or missing key.
 */
export function buildAuth(
  cloud: Record<string, unknown>,
  authText: (key: string) => string | undefined,
  fail: Fail,
): CloudAuth {
  const authUrl = normalizeAuthUrl(
    authText('auth_url') ??
      fail(
        'auth.auth_url',
        'is missing; set it to the Keystone URL, for example https://keystone.example.com:5000/v3',
      ),
    fail,
  );

  const identityVersion = cloud.identity_api_version;
  if (identityVersion !== undefined && String(identityVersion) !== '3') {
    fail(
      'identity_api_version',
      `"${String(identityVersion)}" is not supported; only Keystone v3 is`,
    );
  }

  const authTypeRaw = cloud.auth_type;
  let authType: CloudAuth['type'];
  if (authTypeRaw === undefined || authTypeRaw === null) {
    // openstacksdk defaults to password; the other credentials name themselves.
    if (authText('application_credential_secret') !== undefined)
      authType = 'v3applicationcredential';
    else if (authText('token') !== undefined && authText('password') === undefined)
      authType = 'token';
    else authType = 'password';
  } else {
    authType =
      authTypeAliases[String(authTypeRaw)] ??
      fail(
        'auth_type',
        `"${String(authTypeRaw)}" is not supported; use password, v3applicationcredential or token`,
      );
  }

  const defaultDomainId = authText('domain_id') ?? authText('default_domain_id');
  const defaultDomainName = authText('domain_name') ?? authText('default_domain_name');

  const user = () => {
    const userId = authText('user_id');
    const username = authText('username');
    const userDomainId = authText('user_domain_id') ?? defaultDomainId;
    const userDomainName = authText('user_domain_name') ?? defaultDomainName;
    return { userId, username, userDomainId, userDomainName };
  };

  switch (authType) {
    case 'password': {
      const u = user();
      if (u.userId === undefined && u.username === undefined)
        fail('auth.username', 'is missing; set username (with user_domain_name) or user_id');
      if (
        u.userId === undefined &&
        u.userDomainId === undefined &&
        u.userDomainName === undefined
      ) {
        fail(
          'auth.user_domain_name',
          `is missing for user "${u.username}"; set user_domain_name or user_domain_id (often Default)`,
        );
      }
      const password =
        authText('password') ??
        fail('auth.password', 'is missing; set it in clouds.yaml or secure.yaml');
      return {
        type: 'password',
        authUrl,
        ...defined(u),
        password: new Secret(password),
        scope: buildScope(authText, defaultDomainId, defaultDomainName, fail),
      };
    }

    case 'v3applicationcredential': {
      const secret =
        authText('application_credential_secret') ??
        fail(
          'auth.application_credential_secret',
          'is missing; set it in clouds.yaml or secure.yaml',
        );
      const id = authText('application_credential_id');
      const name = authText('application_credential_name');
      if (id === undefined && name === undefined)
        fail(
          'auth.application_credential_id',
          'is missing; set application_credential_id, or application_credential_name with the user',
        );
      const u = user();
      if (id === undefined) {
        if (u.userId === undefined && u.username === undefined)
          fail(
            'auth.username',
            `is missing; application credential "${name}" given by name needs username or user_id`,
          );
        if (
          u.userId === undefined &&
          u.userDomainId === undefined &&
          u.userDomainName === undefined
        ) {
          fail(
            'auth.user_domain_name',
            `is missing for user "${u.username}"; set user_domain_name or user_domain_id`,
          );
        }
      }
      for (const key of ['project_name', 'project_id', 'tenant_name', 'tenant_id']) {
        if (authText(key) !== undefined)
          fail(
            `auth.${key}`,
            'cannot be used with an application credential, whose project is fixed when it is created; remove it',
          );
      }
      return {
        type: 'v3applicationcredential',
        authUrl,
        ...defined({ id, name, ...u }),
        secret: new Secret(secret),
      };
    }

    case 'token': {
      const token = authText('token') ?? fail('auth.token', 'is missing for auth_type token');
      return {
        type: 'token',
        authUrl,
        token: new Secret(token),
        scope: buildScope(authText, defaultDomainId, defaultDomainName, fail),
      };
    }
  }
}

function buildScope(
  authText: (key: string) => string | undefined,
  defaultDomainId: string | undefined,
  defaultDomainName: string | undefined,
  fail: Fail,
): AuthScope {
  const projectId = authText('project_id') ?? authText('tenant_id');
  const projectName = authText('project_name') ?? authText('tenant_name');
  const system = authText('system_scope');

  if (projectId !== undefined || projectName !== undefined) {
    const projectDomainId = authText('project_domain_id') ?? defaultDomainId;
    const projectDomainName = authText('project_domain_name') ?? defaultDomainName;
    if (
      projectId === undefined &&
      projectDomainId === undefined &&
      projectDomainName === undefined
    ) {
      fail(
        'auth.project_domain_name',
        `is missing for project "${projectName}"; set project_domain_name or project_domain_id (often Default)`,
      );
    }
    return defined({
      projectId,
      projectName,
      projectDomainId: projectId === undefined ? projectDomainId : undefined,
      projectDomainName: projectId === undefined ? projectDomainName : undefined,
    });
  }
  if (system !== undefined) return { system };
  if (defaultDomainId !== undefined || defaultDomainName !== undefined) {
    return defined({ domainId: defaultDomainId, domainName: defaultDomainName });
  }
  // NOTE: an unscoped token has no catalog, so every service call would fail;
  // rejecting it here names the missing key instead.
  return fail(
    'auth.project_name',
    'is missing; set project_name (with project_domain_name) or project_id',
  );
}

function normalizeAuthUrl(url: string, fail: Fail): string {
  const parsed = parseUrl(url, 'auth.auth_url', fail);
  const trimmed = parsed.replace(/\/+$/, '');
  if (/\/v2\.0$/.test(trimmed))
    fail(
      'auth.auth_url',
      `"${url}" points at Keystone v2.0, which is not supported; use the /v3 URL`,
    );
  return /\/v3$/.test(trimmed) ? trimmed : `${trimmed}/v3`;
}

/** Validates an http or https URL and returns it as written, without trailing slashes. */
export function parseUrl(url: string, key: string, fail: Fail): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return fail(key, `"${url}" is not a valid URL`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    fail(key, `"${url}" must use http or https`);
  }
  // The text is kept as written: URL.toString() would percent-encode the
  // {project_id} placeholder that endpoint overrides may contain.
  return url.trim().replace(/\/+$/, '');
}

function defined<T extends Record<string, unknown>>(
  object: T,
): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(
    Object.entries(object).filter(([, value]) => value !== undefined),
  ) as never;
}
