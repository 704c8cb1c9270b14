/**
 * Sources of a cloud's configuration: clouds.yaml and secure.yaml, found the
 * way openstacksdk finds them, the OS_* environment variables, or the text of
 * a Kubernetes Secret.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

import { parse as parseYaml } from 'yaml';

import { authKeys } from './config-auth.js';
import { CloudConfigError, normalizeCloud, type CloudConfig } from './config.js';

/** Options for {@link loadCloudConfig}; every field defaults to the process's own. */
export interface LoadOptions {
  /** Cloud name; @default process.env.OS_CLOUD */
  cloud?: string;
  /** Region that replaces the entry's region_name. */
  regionName?: string;
  /** @default process.env */
  env?: NodeJS.ProcessEnv;
  /** @default process.cwd() */
  cwd?: string;
  /** @default os.homedir() */
  homeDir?: string;
}

/** Options for {@link cloudConfigFromString}. */
export interface FromStringOptions {
  /** Cloud name; may be left out when the text defines exactly one cloud. */
  cloud?: string;
  /** PEM CA bundle (a Secret's `cacert` key) that replaces the entry's `cacert` path. */
  caCert?: string;
  /** secure.yaml text to merge in, as openstacksdk merges secure.yaml. */
  secureYaml?: string;
  regionName?: string;
  /** Label for error messages, for example `Secret ops/openstack key clouds.yaml`. @default "clouds.yaml text" */
  source?: string;
}

/**
 * Returns the clouds.yaml paths in the order openstacksdk searches them:
 * OS_CLIENT_CONFIG_FILE, the current directory, ~/.config/openstack and
 * /etc/openstack. The first file that exists wins; the others are not merged.
 */
export function configSearchPath(
  fileName: 'clouds.yaml' | 'secure.yaml',
  options: LoadOptions = {},
): string[] {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const home = options.homeDir ?? homedir();
  const explicit =
    fileName === 'clouds.yaml' ? env.OS_CLIENT_CONFIG_FILE : env.OS_CLIENT_SECURE_FILE;
  const paths = [
    join(cwd, fileName),
    join(home, '.config', 'openstack', fileName),
    join('/etc/openstack', fileName),
  ];
  return explicit ? [resolve(cwd, explicit), ...paths] : paths;
}

/**
 * Resolves the configuration of one cloud the way openstacksdk does. The cloud
 * named by `cloud` or OS_CLOUD comes from the first clouds.yaml found, with the
 * first secure.yaml merged over it; `envvars` (or OS_CLOUD_NAME) is the cloud
 * built from OS_* variables, which is also the default when no name is given
 * and OS_AUTH_URL is set; otherwise a file with exactly one cloud needs no name.
 * Throws {@link CloudConfigError} naming the file, cloud and key.
 */
export function loadCloudConfig(options: LoadOptions = {}): CloudConfig {
  const env = options.env ?? process.env;
  const requested = options.cloud ?? (env.OS_CLOUD || undefined);
  const envName = env.OS_CLOUD_NAME || 'envvars';
  const normalizeOptions =
    options.regionName === undefined ? {} : { regionName: options.regionName };

  if ((requested === undefined || requested === envName) && env.OS_AUTH_URL) {
    return normalizeCloud('environment', envName, cloudFromEnv(env), normalizeOptions);
  }

  const cloudsPath = configSearchPath('clouds.yaml', options).find((path) => existsSync(path));
  if (cloudsPath === undefined) {
    const searched = configSearchPath('clouds.yaml', options).join(', ');
    throw new CloudConfigError(
      'clouds.yaml',
      requested,
      undefined,
      `no clouds.yaml found (searched ${searched}) and OS_AUTH_URL is not set; create one or set OS_CLIENT_CONFIG_FILE`,
    );
  }
  const clouds = readCloudsFile(cloudsPath);

  const securePath = configSearchPath('secure.yaml', options).find((path) => existsSync(path));
  const secure = securePath === undefined ? {} : readCloudsFile(securePath);

  const name = pickCloud(cloudsPath, clouds, requested, 'set OS_CLOUD or pass the cloud name');
  const entry = deepMerge(clouds[name], secure[name]);
  return normalizeCloud(cloudsPath, name, entry, normalizeOptions);
}

/**
 * Resolves one cloud from clouds.yaml text, such as the `clouds.yaml` key of a
 * Kubernetes Secret, with an optional CA bundle. Throws {@link CloudConfigError}
 * naming the source, cloud and key; the message never quotes the text.
 */
export function cloudConfigFromString(text: string, options: FromStringOptions = {}): CloudConfig {
  const source = options.source ?? 'clouds.yaml text';
  const clouds = parseClouds(source, text);
  const secure =
    options.secureYaml === undefined
      ? {}
      : parseClouds(`${source} (secure.yaml)`, options.secureYaml);
  const name = pickCloud(source, clouds, options.cloud, 'name the cloud to use');
  const entry = deepMerge(clouds[name], secure[name]);
  return normalizeCloud(source, name, entry, {
    ...(options.caCert === undefined ? {} : { caCert: options.caCert }),
    ...(options.regionName === undefined ? {} : { regionName: options.regionName }),
  });
}

function readCloudsFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new CloudConfigError(
      path,
      undefined,
      undefined,
      `cannot read the file: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
    );
  }
  return parseClouds(path, text);
}

function parseClouds(source: string, text: string): Record<string, unknown> {
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (err) {
    // The YAML error carries a line and column, never the content of the line.
    const position = (err as { linePos?: Array<{ line: number; col: number }> }).linePos?.[0];
    const at = position ? ` at line ${position.line}, column ${position.col}` : '';
    throw new CloudConfigError(
      source,
      undefined,
      undefined,
      `is not valid YAML${at}; check the indentation and quoting there`,
    );
  }
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    throw new CloudConfigError(
      source,
      undefined,
      undefined,
      'must be a YAML mapping with a top-level "clouds" key',
    );
  }
  const clouds = (document as Record<string, unknown>).clouds;
  if (typeof clouds !== 'object' || clouds === null || Array.isArray(clouds)) {
    throw new CloudConfigError(
      source,
      undefined,
      'clouds',
      'is missing or not a mapping of cloud names to settings',
    );
  }
  return clouds as Record<string, unknown>;
}

function pickCloud(
  source: string,
  clouds: Record<string, unknown>,
  requested: string | undefined,
  hint: string,
): string {
  const names = Object.keys(clouds);
  if (requested !== undefined) {
    if (Object.hasOwn(clouds, requested)) return requested;
    throw new CloudConfigError(
      source,
      requested,
      undefined,
      `no such cloud; the file defines: ${names.join(', ') || 'none'}`,
    );
  }
  if (names.length === 1) return names[0]!;
  throw new CloudConfigError(
    source,
    undefined,
    undefined,
    `defines ${names.length} clouds (${names.join(', ')}); ${hint}`,
  );
}

function deepMerge(base: unknown, overlay: unknown): unknown {
  if (overlay === undefined) return base;
  if (isRecord(base) && isRecord(overlay)) {
    const merged: Record<string, unknown> = { ...base };
    for (const [key, value] of Object.entries(overlay)) merged[key] = deepMerge(base[key], value);
    return merged;
  }
  return overlay;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** OS_* variables that are cloud-level settings, by their clouds.yaml key. */
const envCloudKeys = [
  'auth_type',
  'region_name',
  'interface',
  'endpoint_type',
  'cacert',
  'cert',
  'key',
  'insecure',
  'verify',
  'identity_api_version',
  'api_timeout',
  'compute_endpoint_override',
  'image_endpoint_override',
  'network_endpoint_override',
  'identity_endpoint_override',
];

/** Builds a clouds.yaml entry from OS_* variables: OS_PASSWORD becomes auth.password and so on. */
export function cloudFromEnv(env: NodeJS.ProcessEnv): Record<string, unknown> {
  const auth: Record<string, string> = {};
  // Every auth key has an OS_* variable of the same name in upper case.
  for (const key of authKeys) {
    const value = env[`OS_${key.toUpperCase()}`];
    if (value) auth[key] = value;
  }
  const cloud: Record<string, unknown> = { auth };
  for (const key of envCloudKeys) {
    const value = env[`OS_${key.toUpperCase()}`];
    if (value) cloud[key] = value;
  }
  return cloud;
}
