import { ImagePublishError } from './errors.js';
import { dockerHubRegistry, type ImageReference } from './reference.js';

/**
 * The part of a Kubernetes Secret the publisher reads. A `V1Secret` from
 * `@kubernetes/client-node` fits as it is: `data` values are base64, as the
 * API server returns them.
 */
export interface PullSecret {
  metadata?: { namespace?: string; name?: string };
  type?: string;
  data?: Record<string, string>;
}

/** A username and password for one registry, with where they came from. */
export interface RegistryCredential {
  readonly username: string;
  readonly password: string;
  /** `namespace/name` of the Secret and the `auths` key that matched; safe to log. */
  readonly source: string;
}

const dockerConfigJsonType = 'kubernetes.io/dockerconfigjson';
const dockerCfgType = 'kubernetes.io/dockercfg';

/** Host names under which a `.dockerconfigjson` entry may refer to Docker Hub. */
const dockerHubHosts = [dockerHubRegistry, 'index.docker.io', 'registry-1.docker.io'];

interface DockerConfigEntry {
  username?: unknown;
  password?: unknown;
  auth?: unknown;
}

interface KeyedCredential {
  host: string;
  port: string;
  path: string;
  credential: RegistryCredential;
  order: number;
}

/**
 * Returns the credentials from the pull secrets that apply to ref, most
 * specific entry first, following the kubelet's matching: an `auths` key may
 * carry a scheme, a `/v1/` or `/v2/` suffix, a port, a repository path prefix
 * and `*` or `?` globs per host label; the port must be equal. Docker Hub
 * references also match `index.docker.io` and `registry-1.docker.io` keys.
 * Throws an {@link ImagePublishError} with reason `invalidPullSecret` when a
 * Secret is malformed; the message names the Secret and key, never a value.
 */
export function credentialsForImage(
  ref: ImageReference,
  secrets: readonly PullSecret[],
): RegistryCredential[] {
  const entries = secrets.flatMap((secret, index) => keyedCredentials(secret, index));
  const targetPath = `/${ref.repository}`;
  const targetHosts = ref.registry === dockerHubRegistry ? dockerHubHosts : [ref.registry];

  const matches = entries.filter((entry) =>
    targetHosts.some((target) => {
      const { host, port } = splitHostPort(target);
      return (
        entry.port === port &&
        hostGlobMatches(entry.host, host) &&
        pathPrefixMatches(entry.path, targetPath)
      );
    }),
  );

  // A longer path prefix is more specific; among equals, keep Secret order.
  matches.sort((a, b) => b.path.length - a.path.length || a.order - b.order);

  const seen = new Set<string>();
  const result: RegistryCredential[] = [];
  for (const { credential } of matches) {
    const identity = `${credential.username}\u0000${credential.password}`;
    if (seen.has(identity)) continue;
    seen.add(identity);
    result.push(credential);
  }
  return result;
}

function keyedCredentials(secret: PullSecret, secretIndex: number): KeyedCredential[] {
  const secretName = `${secret.metadata?.namespace ?? ''}/${secret.metadata?.name ?? ''}`;
  const invalid = (problem: string): never => {
    throw new ImagePublishError(
      'invalidPullSecret',
      `image pull secret ${secretName} is invalid: ${problem}; ` +
        'create it with `kubectl create secret docker-registry`',
    );
  };

  const type = secret.type ?? dockerConfigJsonType;
  let auths: unknown;
  if (type === dockerConfigJsonType) {
    const config = decodeJsonKey(secret, '.dockerconfigjson', invalid);
    auths = (config as { auths?: unknown }).auths;
    if (auths === undefined) auths = {};
  } else if (type === dockerCfgType) {
    auths = decodeJsonKey(secret, '.dockercfg', invalid);
  } else {
    invalid(`its type is ${JSON.stringify(type)}, expected ${dockerConfigJsonType}`);
  }
  if (typeof auths !== 'object' || auths === null || Array.isArray(auths)) {
    invalid('"auths" is not an object of registry entries');
  }

  const result: KeyedCredential[] = [];
  for (const [key, value] of Object.entries(auths as Record<string, unknown>)) {
    const credential = entryCredential(
      value as DockerConfigEntry,
      `${secretName} (${key})`,
      invalid,
    );
    if (credential === undefined) continue;
    // Like the kubelet, skip a key that is not a registry location rather
    // than rejecting every other entry of the Secret.
    const location = parseAuthsKey(key);
    if (location === undefined) continue;
    result.push({ ...location, credential, order: secretIndex * 10_000 + result.length });
  }
  return result;
}

function decodeJsonKey(
  secret: PullSecret,
  key: string,
  invalid: (problem: string) => never,
): unknown {
  const encoded = secret.data?.[key];
  if (encoded === undefined) invalid(`it has no ${key} key`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(encoded!, 'base64').toString('utf8'));
  } catch {
    invalid(`the ${key} value is not base64-encoded JSON`);
  }
  if (typeof parsed !== 'object' || parsed === null)
    invalid(`the ${key} value is not a JSON object`);
  return parsed;
}

function entryCredential(
  entry: DockerConfigEntry,
  source: string,
  invalid: (problem: string) => never,
): RegistryCredential | undefined {
  if (typeof entry !== 'object' || entry === null) invalid(`the entry ${source} is not an object`);

  // As in the kubelet and the Docker CLI, "auth" wins over username and password.
  if (typeof entry.auth === 'string' && entry.auth.length > 0) {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon <= 0) invalid(`the "auth" field of ${source} is not base64 of "username:password"`);
    return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1), source };
  }
  if (typeof entry.username === 'string' && entry.username.length > 0) {
    return {
      username: entry.username,
      password: typeof entry.password === 'string' ? entry.password : '',
      source,
    };
  }

  // NOTE: entries with only an identitytoken (OAuth refresh token) are skipped;
  // the publisher supports username/password credentials only.
  return undefined;
}

/**
 * Splits an `auths` key into host, port and path as the kubelet does:
 * `https://reg.example.com:5000/v2/` -> host `reg.example.com`, port `5000`, path `/`.
 */
function parseAuthsKey(key: string): { host: string; port: string; path: string } | undefined {
  // Parsed by hand, not with URL, because glob characters such as "?" are
  // legal in a key's host labels but mean something else in a URL.
  const withoutScheme = key.replace(/^https?:\/\//i, '');
  const slash = withoutScheme.indexOf('/');
  const authority = slash >= 0 ? withoutScheme.slice(0, slash) : withoutScheme;
  let path = slash >= 0 ? withoutScheme.slice(slash) : '';

  const match = /^([A-Za-z0-9*?.\-[\]]+?)(?::(\d+))?$/.exec(authority);
  if (match === null) return undefined;

  if (path.startsWith('/v1/') || path.startsWith('/v2/')) path = path.slice(3);
  if (path === '/v1' || path === '/v2') path = '/';
  path = path.replace(/\/+$/, '');
  return { host: match[1]!.toLowerCase(), port: match[2] ?? '', path };
}

function splitHostPort(hostWithPort: string): { host: string; port: string } {
  const match = /^(.*?)(?::(\d+))?$/.exec(hostWithPort)!;
  return { host: match[1]!.toLowerCase(), port: match[2] ?? '' };
}

/** Matches host labels one by one; each key label may use `*` and `?` as in filepath.Match. */
function hostGlobMatches(pattern: string, host: string): boolean {
  const patternLabels = pattern.split('.');
  const hostLabels = host.split('.');
  if (patternLabels.length !== hostLabels.length) return false;
  return patternLabels.every((label, i) => globToRegExp(label).test(hostLabels[i]!));
}

function globToRegExp(glob: string): RegExp {
  const source = glob
    .split('')
    .map((char) =>
      char === '*' ? '[^.]*' : char === '?' ? '[^.]' : char.replace(/[\\^$+.()|{}[\]]/g, '\\$&'),
    )
    .join('');
  return new RegExp(`^${source}$`);
}

/** Returns whether prefix is empty or equals target's leading path components. */
function pathPrefixMatches(prefix: string, target: string): boolean {
  return prefix === '' || target === prefix || target.startsWith(`${prefix}/`);
}
