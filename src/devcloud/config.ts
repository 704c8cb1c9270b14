import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { parse as parseYaml } from 'yaml';

/** The four OpenStack services the dev cloud serves, as named in the service catalog. */
export const serviceNames = ['identity', 'compute', 'image', 'network'] as const;
export type ServiceName = (typeof serviceNames)[number];

/** Per-project quota limits, counted over the servers that are not deleted. */
export interface QuotaLimits {
  instances: number;
  cores: number;
  /** Memory in MiB, as Nova counts it. */
  ram: number;
}

/** Injected faults, changeable at run time through the admin endpoint. */
export interface FaultConfig {
  /** Added delay per service before a request is handled, in milliseconds. */
  latencyMs: Record<ServiceName, number>;
  /** Fraction (0 to 1) of API requests that get each injected status code. */
  errorRates: { '500': number; '503': number; '429': number };
  /** Value of Retry-After on injected 429 responses, in seconds. */
  retryAfterSeconds: number;
  /** Services whose requests may get injected errors. */
  errorServices: ServiceName[];
  /** Glance image names whose servers go to ERROR with a fault. */
  failingImages: string[];
  /** Flavor names whose servers go to ERROR with "No valid host was found.". */
  failingFlavors: string[];
}

/** Everything the dev cloud needs to start; built by resolveConfig from defaults, a file and flags. */
export interface DevCloudConfig {
  listenAddress: string;
  /** Single-port mode: every service under a path prefix on this port (0 picks a free port). */
  port: number;
  /** Split mode: one port per service plus the admin endpoint; overrides port when set. */
  ports?: Record<ServiceName | 'admin', number>;
  /** Host name or address used in catalog URLs. Defaults to the listen address (127.0.0.1 for 0.0.0.0). */
  publicHost?: string;
  dataDir: string;
  dockerSocket: string;
  noEngine: boolean;
  region: string;
  domainName: string;
  projectName: string;
  username: string;
  password: string;
  adminUsername: string;
  adminPassword: string;
  applicationCredentialSecret: string;
  tokenLifetimeSeconds: number;
  /** Extra time a server stays in BUILD before the driver starts it, in milliseconds. */
  buildDelayMs: number;
  /** Seconds Docker waits after SIGTERM before SIGKILL on os-stop and reboot. */
  stopTimeoutSeconds: number;
  quotas: QuotaLimits;
  faults: FaultConfig;
  networkName: string;
  networkCidr: string;
  /** docker: containers join a Docker bridge network; fake: addresses come from networkCidr only; auto: docker when the engine allows it. */
  addressMode: 'auto' | 'docker' | 'fake';
  /** Prefix of the Docker networks and container labels, so several dev clouds can share one engine. */
  dockerNetworkPrefix: string;
  logLevel: string;
  /** Seed for the fault injector's random numbers, so a run injects the same faults each time. */
  faultSeed?: number;
}

/** Returns the built-in defaults; the command's --help prints the same values. */
export function defaultConfig(): DevCloudConfig {
  return {
    listenAddress: '127.0.0.1',
    port: 8800,
    dataDir: path.join(
      process.env.XDG_STATE_HOME ?? path.join(os.homedir(), '.local', 'state'),
      'nova-docker-operator',
      'devcloud',
    ),
    dockerSocket: defaultDockerSocket(),
    noEngine: false,
    region: 'RegionOne',
    domainName: 'Default',
    projectName: 'devcloud',
    username: 'operator',
    password: 'devcloud',
    adminUsername: 'admin',
    adminPassword: 'devcloud-admin',
    applicationCredentialSecret: 'devcloud-app-secret',
    tokenLifetimeSeconds: 3600,
    buildDelayMs: 0,
    stopTimeoutSeconds: 10,
    quotas: { instances: 10, cores: 20, ram: 51200 },
    faults: {
      latencyMs: { identity: 0, compute: 0, image: 0, network: 0 },
      errorRates: { '500': 0, '503': 0, '429': 0 },
      retryAfterSeconds: 1,
      errorServices: ['compute', 'image', 'network'],
      failingImages: [],
      failingFlavors: [],
    },
    networkName: 'private',
    // A /16 leaves room for thousands of servers in --no-engine benchmarks.
    networkCidr: '10.0.0.0/16',
    addressMode: 'auto',
    dockerNetworkPrefix: 'devcloud',
    logLevel: 'info',
  };
}

function defaultDockerSocket(): string {
  const host = process.env.DOCKER_HOST;
  if (host?.startsWith('unix://')) return host.slice('unix://'.length);
  return '/var/run/docker.sock';
}

/** A partial configuration as read from a file or flags; nested objects merge key by key. */
export type ConfigOverrides = Partial<Omit<DevCloudConfig, 'quotas' | 'faults'>> & {
  quotas?: Partial<QuotaLimits>;
  faults?: Partial<Omit<FaultConfig, 'latencyMs' | 'errorRates'>> & {
    latencyMs?: Partial<Record<ServiceName, number>>;
    errorRates?: Partial<FaultConfig['errorRates']>;
  };
};

/**
 * Reads a YAML or JSON config file whose keys match DevCloudConfig.
 * Throws with the file path when the file cannot be read or is not a mapping.
 */
export async function readConfigFile(file: string): Promise<ConfigOverrides> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new Error(`cannot read dev cloud config file ${file}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  const parsed: unknown = parseYaml(text);
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new Error(
      `dev cloud config file ${file} must contain a mapping of settings, got ${typeof parsed}`,
    );
  }
  return parsed as ConfigOverrides;
}

/**
 * Merges overrides (later ones win) onto the defaults and validates the result.
 * Throws an error naming the invalid setting and its value.
 */
export function resolveConfig(...layers: ConfigOverrides[]): DevCloudConfig {
  const config = defaultConfig();
  for (const layer of layers) {
    const { quotas, faults, ...rest } = layer;
    for (const [key, value] of Object.entries(rest)) {
      if (value !== undefined) (config as unknown as Record<string, unknown>)[key] = value;
    }
    if (quotas) config.quotas = { ...config.quotas, ...definedOnly(quotas) };
    if (faults) config.faults = mergeFaults(config.faults, faults);
  }
  validateConfig(config);
  return config;
}

/** Returns faults with the given overrides applied; used for the file, flags and the admin endpoint. */
export function mergeFaults(
  base: FaultConfig,
  overrides: NonNullable<ConfigOverrides['faults']>,
): FaultConfig {
  const { latencyMs, errorRates, ...rest } = overrides;
  return {
    ...base,
    ...definedOnly(rest),
    latencyMs: { ...base.latencyMs, ...definedOnly(latencyMs ?? {}) },
    errorRates: { ...base.errorRates, ...definedOnly(errorRates ?? {}) },
  };
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Throws when a setting is out of range, naming the setting and the value received. */
export function validateConfig(config: DevCloudConfig): void {
  const checkPort = (name: string, value: unknown): void => {
    if (!Number.isInteger(value) || (value as number) < 0 || (value as number) > 65535) {
      throw new Error(
        `invalid ${name}: expected a port number from 0 to 65535, got ${String(value)}`,
      );
    }
  };
  checkPort('port', config.port);
  if (config.ports) {
    for (const name of [...serviceNames, 'admin'] as const)
      checkPort(`ports.${name}`, config.ports[name]);
  }
  const checkNonNegative = (name: string, value: unknown): void => {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new Error(`invalid ${name}: expected a number >= 0, got ${String(value)}`);
    }
  };
  checkNonNegative('tokenLifetimeSeconds', config.tokenLifetimeSeconds);
  if (config.tokenLifetimeSeconds < 1) {
    throw new Error(
      `invalid tokenLifetimeSeconds: expected at least 1 second, got ${config.tokenLifetimeSeconds}`,
    );
  }
  checkNonNegative('buildDelayMs', config.buildDelayMs);
  checkNonNegative('stopTimeoutSeconds', config.stopTimeoutSeconds);
  for (const [name, value] of Object.entries(config.quotas)) {
    if (!Number.isInteger(value) || value < -1) {
      throw new Error(
        `invalid quotas.${name}: expected a whole number, or -1 for unlimited, got ${String(value)}`,
      );
    }
  }
  validateFaults(config.faults);
  if (!['auto', 'docker', 'fake'].includes(config.addressMode)) {
    throw new Error(
      `invalid addressMode: expected auto, docker or fake, got ${String(config.addressMode)}`,
    );
  }
  parseCidr(config.networkCidr);
  for (const key of ['dataDir', 'listenAddress', 'username', 'password', 'projectName'] as const) {
    if (typeof config[key] !== 'string' || config[key] === '') {
      throw new Error(
        `invalid ${key}: expected a non-empty string, got ${JSON.stringify(config[key])}`,
      );
    }
  }
}

/** Throws when a fault setting is out of range; the admin endpoint uses it before applying changes. */
export function validateFaults(faults: FaultConfig): void {
  for (const service of serviceNames) {
    const value = faults.latencyMs[service];
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new Error(
        `invalid faults.latencyMs.${service}: expected milliseconds >= 0, got ${String(value)}`,
      );
    }
  }
  let total = 0;
  for (const code of ['500', '503', '429'] as const) {
    const rate = faults.errorRates[code];
    if (typeof rate !== 'number' || !(rate >= 0 && rate <= 1)) {
      throw new Error(
        `invalid faults.errorRates.${code}: expected a fraction from 0 to 1, got ${String(rate)}`,
      );
    }
    total += rate;
  }
  if (total > 1) {
    throw new Error(
      `invalid faults.errorRates: the three rates add up to ${total}, which is more than 1`,
    );
  }
  if (!Number.isInteger(faults.retryAfterSeconds) || faults.retryAfterSeconds < 0) {
    throw new Error(
      `invalid faults.retryAfterSeconds: expected whole seconds >= 0, got ${String(faults.retryAfterSeconds)}`,
    );
  }
  for (const service of faults.errorServices) {
    if (!serviceNames.includes(service)) {
      throw new Error(
        `invalid faults.errorServices entry ${JSON.stringify(service)}: expected one of ${serviceNames.join(', ')}`,
      );
    }
  }
  for (const key of ['failingImages', 'failingFlavors'] as const) {
    if (!Array.isArray(faults[key]) || faults[key].some((name) => typeof name !== 'string')) {
      throw new Error(
        `invalid faults.${key}: expected a list of names, got ${JSON.stringify(faults[key])}`,
      );
    }
  }
}

/** Parses an IPv4 CIDR such as 10.0.0.0/24; throws on anything else, naming the value. */
export function parseCidr(cidr: string): { base: number; prefix: number } {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
  const octets = match?.slice(1, 5).map(Number) ?? [];
  const prefix = Number(match?.[5]);
  if (!match || octets.some((o) => o > 255) || prefix < 8 || prefix > 29) {
    throw new Error(
      `invalid networkCidr ${JSON.stringify(cidr)}: expected an IPv4 CIDR with a prefix from /8 to /29, such as 10.0.0.0/24`,
    );
  }
  const address = octets.reduce((acc, o) => acc * 256 + o, 0);
  const size = 2 ** (32 - prefix);
  return { base: address - (address % size), prefix };
}

/** Formats a 32-bit number as a dotted IPv4 address. */
export function formatIpv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}
