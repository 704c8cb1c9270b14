/**
 * The resolved configuration of one cloud, and the validation that turns one
 * `clouds.yaml` entry (or the OS_* variables) into it. Where the entry comes
 * from is config-sources.ts.
 */
import { readFileSync } from 'node:fs';

import type { ServiceType } from './errors.js';
import { authKeys, buildAuth, parseUrl, type Fail } from './config-auth.js';
import type { Secret } from './secret.js';

/** The Keystone endpoint interface to take from the catalog. */
export type EndpointInterface = 'public' | 'internal' | 'admin';

/** Scope of a password or token: a project (by ID, or name plus domain), a domain, or the system. */
export interface AuthScope {
  projectId?: string;
  projectName?: string;
  projectDomainId?: string;
  projectDomainName?: string;
  domainId?: string;
  domainName?: string;
  system?: string;
}

/** Keystone v3 password authentication; the user is given by ID, or by name plus domain. */
export interface PasswordAuth {
  type: 'password';
  authUrl: string;
  userId?: string;
  username?: string;
  userDomainId?: string;
  userDomainName?: string;
  password: Secret;
  scope: AuthScope;
}

/** Keystone v3 application credential, by ID, or by name plus its user. Its scope is fixed at creation. */
export interface ApplicationCredentialAuth {
  type: 'v3applicationcredential';
  authUrl: string;
  id?: string;
  name?: string;
  userId?: string;
  username?: string;
  userDomainId?: string;
  userDomainName?: string;
  secret: Secret;
}

/** An existing Keystone token, rescoped to the given scope; it cannot outlive its own expiry. */
export interface TokenAuth {
  type: 'token';
  authUrl: string;
  token: Secret;
  scope: AuthScope;
}

/** The credentials of a cloud, by auth type. */
export type CloudAuth = PasswordAuth | ApplicationCredentialAuth | TokenAuth;

/** Everything needed to talk to one cloud, with every default applied. */
export interface CloudConfig {
  /** Name of the cloud in clouds.yaml, or `envvars` for the OS_* variables. */
  cloudName: string;
  /** Origin of the entry (a file path, `environment`, or the caller's label), for error messages. */
  source: string;
  auth: CloudAuth;
  regionName?: string;
  interface: EndpointInterface;
  /** Verify the server's TLS certificate. @default true */
  verify: boolean;
  /** PEM bundle of the certificate authorities to trust; like openstacksdk's `cacert`, it replaces the system store. */
  caCert?: string;
  /** PEM client certificate and key for mutual TLS. */
  clientCert?: string;
  clientKey?: string;
  /** Per-service base URLs that replace the catalog's (`compute_endpoint_override` and so on). */
  endpointOverrides: Partial<Record<ServiceType, string>>;
  /** Per-request timeout from `api_timeout`, in milliseconds. */
  timeoutMs?: number;
}

/**
 * An invalid or incomplete cloud configuration. The message names the source
 * (file), the cloud and the key, and never contains a credential value.
 */
export class CloudConfigError extends Error {
  constructor(
    readonly source: string,
    readonly cloud: string | undefined,
    readonly key: string | undefined,
    problem: string,
  ) {
    const where = [source, cloud === undefined ? undefined : `cloud "${cloud}"`, key]
      .filter((part) => part !== undefined)
      .join(': ');
    super(`${where}: ${problem}`);
    this.name = 'CloudConfigError';
  }
}

/** Options that a caller applies on top of the entry (a region, or a CA bundle from a Secret). */
export interface NormalizeOptions {
  regionName?: string;
  /** PEM contents that replace the entry's `cacert` path. */
  caCert?: string;
}

const interfaceAliases: Record<string, EndpointInterface> = {
  public: 'public',
  publicurl: 'public',
  internal: 'internal',
  internalurl: 'internal',
  admin: 'admin',
  adminurl: 'admin',
};

const overrideServices: ServiceType[] = ['identity', 'compute', 'image', 'network'];

/**
 * Validates one clouds.yaml entry (after secure.yaml is merged in) and returns
 * the resolved {@link CloudConfig}. Throws {@link CloudConfigError} naming the
 * source, cloud and key on the first problem found.
 */
export function normalizeCloud(
  source: string,
  cloudName: string,
  entry: unknown,
  options: NormalizeOptions = {},
): CloudConfig {
  const fail = (key: string | undefined, problem: string): never => {
    throw new CloudConfigError(source, cloudName, key, problem);
  };
  if (!isRecord(entry)) fail(undefined, `the entry must be a mapping, not ${describe(entry)}`);
  const cloud = entry as Record<string, unknown>;

  const rawAuth =
    cloud.auth ?? fail('auth', 'is missing; add an auth mapping with auth_url and credentials');
  if (!isRecord(rawAuth)) fail('auth', `must be a mapping, not ${describe(rawAuth)}`);
  const authEntry = rawAuth as Record<string, unknown>;
  for (const key of Object.keys(authEntry)) {
    if (!authKeys.has(key))
      fail(`auth.${key}`, `is not a known key; known keys: ${[...authKeys].join(', ')}`);
  }

  const text = (object: Record<string, unknown>, key: string, path: string): string | undefined => {
    const value = object[key];
    if (value === undefined || value === null || value === '') return undefined;
    // YAML reads an unquoted 123456 as a number; credentials and IDs are strings.
    if (typeof value === 'number') return String(value);
    if (typeof value !== 'string') fail(path, `must be a string, not ${describe(value)}`);
    return value as string;
  };
  const authText = (key: string) => text(authEntry, key, `auth.${key}`);

  const auth = buildAuth(cloud, authText, fail);

  const interfaceRaw =
    text(cloud, 'interface', 'interface') ??
    text(cloud, 'endpoint_type', 'endpoint_type') ??
    'public';
  const endpointInterface =
    interfaceAliases[interfaceRaw.toLowerCase()] ??
    fail('interface', `"${interfaceRaw}" is not one of public, internal, admin`);

  const config: CloudConfig = {
    cloudName,
    source,
    auth,
    interface: endpointInterface,
    verify: readVerify(cloud, fail),
    endpointOverrides: {},
  };

  const region =
    options.regionName ?? text(cloud, 'region_name', 'region_name') ?? firstRegion(cloud, fail);
  if (region !== undefined) config.regionName = region;

  if (options.caCert !== undefined) {
    config.caCert = options.caCert;
  } else {
    const caPath = text(cloud, 'cacert', 'cacert');
    if (caPath !== undefined) config.caCert = readPem(caPath, 'cacert', fail);
  }
  const certPath = text(cloud, 'cert', 'cert');
  if (certPath !== undefined) config.clientCert = readPem(certPath, 'cert', fail);
  const keyPath = text(cloud, 'key', 'key');
  if (keyPath !== undefined) config.clientKey = readPem(keyPath, 'key', fail);
  if ((config.clientCert === undefined) !== (config.clientKey === undefined)) {
    fail(
      config.clientCert === undefined ? 'cert' : 'key',
      'cert and key must be set together for client TLS',
    );
  }

  for (const service of overrideServices) {
    const key = `${service}_endpoint_override`;
    const url = text(cloud, key, key);
    if (url !== undefined) config.endpointOverrides[service] = parseUrl(url, key, fail);
  }

  const timeout = cloud.api_timeout;
  if (timeout !== undefined && timeout !== null) {
    const seconds = Number(timeout);
    if (!Number.isFinite(seconds) || seconds <= 0)
      fail('api_timeout', `must be a positive number of seconds, not ${describe(timeout)}`);
    config.timeoutMs = seconds * 1000;
  }

  return config;
}

function readVerify(cloud: Record<string, unknown>, fail: Fail): boolean {
  const verify = cloud.verify;
  const insecure = cloud.insecure;
  const asBool = (value: unknown, key: string): boolean => {
    if (typeof value === 'boolean') return value;
    if (value === 'true' || value === 'True') return true;
    if (value === 'false' || value === 'False') return false;
    return fail(key, `must be true or false, not ${describe(value)}`);
  };
  if (verify !== undefined && verify !== null) return asBool(verify, 'verify');
  if (insecure !== undefined && insecure !== null) return !asBool(insecure, 'insecure');
  return true;
}

function firstRegion(cloud: Record<string, unknown>, fail: Fail): string | undefined {
  const regions = cloud.regions;
  if (regions === undefined || regions === null) return undefined;
  if (!Array.isArray(regions) || regions.length === 0)
    return fail('regions', 'must be a non-empty list');
  const first: unknown = regions[0];
  if (typeof first === 'string') return first;
  if (isRecord(first) && typeof first.name === 'string') return first.name;
  return fail('regions', 'entries must be names or mappings with a name');
}

function readPem(path: string, key: string, fail: Fail): string {
  let contents: string;
  try {
    contents = readFileSync(path, 'utf8');
  } catch (err) {
    return fail(
      key,
      `cannot read "${path}": ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
    );
  }
  if (!contents.includes('-----BEGIN')) fail(key, `"${path}" is not a PEM file (no BEGIN line)`);
  return contents;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return `a ${typeof value}`;
}
