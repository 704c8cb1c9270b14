import { Command, Option } from 'commander';

import { createLogger } from '../observability/logger.js';
import {
  defaultConfig,
  readConfigFile,
  resolveConfig,
  serviceNames,
  type ConfigOverrides,
  type ServiceName,
} from './config.js';
import { DevCloud } from './devcloud.js';
import { defaultFlavors } from './fixtures.js';

function integer(name: string) {
  return (value: string): number => {
    const parsed = Number(value);
    if (!/^-?\d+$/.test(value) || !Number.isSafeInteger(parsed)) {
      throw new Error(`invalid ${name} ${JSON.stringify(value)}: expected a whole number`);
    }
    return parsed;
  };
}

function fraction(name: string) {
  return (value: string): number => {
    const parsed = Number(value);
    if (value.trim() === '' || !(parsed >= 0 && parsed <= 1)) {
      throw new Error(
        `invalid ${name} ${JSON.stringify(value)}: expected a fraction from 0 to 1, such as 0.05`,
      );
    }
    return parsed;
  };
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** Parses "identity=5000,compute=8774" into numbers by key; throws naming the bad entry. */
function keyValues(name: string, keys: readonly string[]) {
  return (value: string): Record<string, number> => {
    const result: Record<string, number> = {};
    for (const entry of value.split(',').filter((part) => part !== '')) {
      const [key, raw] = entry.split('=');
      const parsed = Number(raw);
      if (
        !key ||
        !keys.includes(key) ||
        raw === undefined ||
        raw.trim() === '' ||
        !Number.isFinite(parsed) ||
        parsed < 0
      ) {
        throw new Error(
          `invalid ${name} entry ${JSON.stringify(entry)}: expected key=number with key one of ${keys.join(', ')}`,
        );
      }
      result[key] = parsed;
    }
    return result;
  };
}

interface DevcloudOptions {
  config?: string;
  listen?: string;
  port?: number;
  ports?: Record<string, number>;
  publicHost?: string;
  dataDir?: string;
  dockerSocket?: string;
  engine: boolean;
  username?: string;
  password?: string;
  project?: string;
  adminPassword?: string;
  appCredentialSecret?: string;
  tokenLifetime?: number;
  latency?: Record<string, number>;
  errorRate500?: number;
  errorRate503?: number;
  errorRate429?: number;
  retryAfter?: number;
  errorServices?: string;
  faultSeed?: number;
  buildDelay?: number;
  stopTimeout?: number;
  failImage?: string[];
  failFlavor?: string[];
  quotaInstances?: number;
  quotaCores?: number;
  quotaRam?: number;
  networkName?: string;
  networkCidr?: string;
  addressMode?: 'auto' | 'docker' | 'fake';
  dockerPrefix?: string;
  logLevel?: string;
}

/** Turns the given flags into config overrides; flags not given stay undefined so the config file keeps its values. */
function overridesFromFlags(options: DevcloudOptions, engineFromCli: boolean): ConfigOverrides {
  let ports: ConfigOverrides['ports'];
  if (options.ports) {
    const missing = [...serviceNames, 'admin'].filter((name) => options.ports![name] === undefined);
    if (missing.length > 0) {
      throw new Error(
        `--ports must give a port for each of identity, compute, image, network and admin; missing: ${missing.join(', ')}`,
      );
    }
    ports = options.ports as NonNullable<ConfigOverrides['ports']>;
  }
  return {
    listenAddress: options.listen,
    port: options.port,
    ports,
    publicHost: options.publicHost,
    dataDir: options.dataDir,
    dockerSocket: options.dockerSocket,
    noEngine: engineFromCli ? !options.engine : undefined,
    username: options.username,
    password: options.password,
    projectName: options.project,
    adminPassword: options.adminPassword,
    applicationCredentialSecret: options.appCredentialSecret,
    tokenLifetimeSeconds: options.tokenLifetime,
    buildDelayMs: options.buildDelay,
    stopTimeoutSeconds: options.stopTimeout,
    networkName: options.networkName,
    networkCidr: options.networkCidr,
    addressMode: options.addressMode,
    dockerNetworkPrefix: options.dockerPrefix,
    logLevel: options.logLevel,
    faultSeed: options.faultSeed,
    quotas: { instances: options.quotaInstances, cores: options.quotaCores, ram: options.quotaRam },
    faults: {
      latencyMs: options.latency as Partial<Record<ServiceName, number>> | undefined,
      errorRates: {
        '500': options.errorRate500,
        '503': options.errorRate503,
        '429': options.errorRate429,
      },
      retryAfterSeconds: options.retryAfter,
      errorServices: options.errorServices?.split(',').filter((name) => name !== '') as
        ServiceName[] | undefined,
      failingImages: options.failImage,
      failingFlavors: options.failFlavor,
    },
  };
}

/** Registers `devcloud`: runs the embedded OpenStack-compatible cloud until SIGINT or SIGTERM. */
export function registerDevcloudCommand(program: Command): void {
  const d = defaultConfig();
  const flavorList = defaultFlavors
    .map((flavor) => `${flavor.name} (${flavor.ram} MiB, ${flavor.vcpus} vCPU)`)
    .join(', ');
  program
    .command('devcloud')
    .description(
      'Run a development cloud: Keystone, Nova, Glance and Neutron APIs in one process, with servers as Docker containers',
    )
    .option(
      '--config <file>',
      'YAML or JSON file with settings (keys as in the README); flags override it',
    )
    .option('--listen <address>', `address to listen on (default: ${d.listenAddress})`)
    .option(
      '--port <port>',
      `single port serving /identity, /compute, /image, /networking and /admin; 0 picks a free port (default: ${d.port})`,
      integer('--port'),
    )
    .option(
      '--ports <list>',
      'one port per service instead: identity=5000,compute=8774,image=9292,network=9696,admin=8799',
      keyValues('--ports', [...serviceNames, 'admin']),
    )
    .option('--public-host <host>', 'host name in catalog URLs (default: the listen address)')
    .option(
      '--data-dir <dir>',
      `folder for state.json, image data, clouds.yaml and devcloud.json (default: ${d.dataDir})`,
    )
    .option(
      '--docker-socket <path>',
      `Docker Engine unix socket (default: ${d.dockerSocket}, from DOCKER_HOST when set)`,
    )
    .option(
      '--no-engine',
      'simulate servers without Docker, for benchmarks with many servers (default: use Docker)',
    )
    .option('--username <name>', `member user name (default: ${d.username})`)
    .option('--password <password>', `member user password (default: ${d.password})`)
    .option('--project <name>', `project name (default: ${d.projectName})`)
    .option(
      '--admin-password <password>',
      `password of the "${d.adminUsername}" user (default: ${d.adminPassword})`,
    )
    .option(
      '--app-credential-secret <secret>',
      `secret of the member user's application credential "operator" (default: ${d.applicationCredentialSecret})`,
    )
    .option(
      '--token-lifetime <seconds>',
      `token lifetime in seconds (default: ${d.tokenLifetimeSeconds})`,
      integer('--token-lifetime'),
    )
    .option(
      '--latency <list>',
      'added latency per service in milliseconds, such as compute=50,image=10 (default: 0 for each)',
      keyValues('--latency', serviceNames),
    )
    .option(
      '--error-rate-500 <fraction>',
      'fraction of API requests answered 500 (default: 0)',
      fraction('--error-rate-500'),
    )
    .option(
      '--error-rate-503 <fraction>',
      'fraction of API requests answered 503 (default: 0)',
      fraction('--error-rate-503'),
    )
    .option(
      '--error-rate-429 <fraction>',
      'fraction of API requests answered 429 with Retry-After (default: 0)',
      fraction('--error-rate-429'),
    )
    .option(
      '--retry-after <seconds>',
      `Retry-After of injected 429 responses in seconds (default: ${d.faults.retryAfterSeconds})`,
      integer('--retry-after'),
    )
    .option(
      '--error-services <list>',
      `services that get injected errors (default: ${d.faults.errorServices.join(',')})`,
    )
    .option(
      '--fault-seed <number>',
      'seed for injected errors, so runs repeat (default: random)',
      integer('--fault-seed'),
    )
    .option(
      '--build-delay <ms>',
      `time a server stays in BUILD before its container starts, in milliseconds (default: ${d.buildDelayMs})`,
      integer('--build-delay'),
    )
    .option(
      '--stop-timeout <seconds>',
      `seconds Docker waits after SIGTERM on os-stop and soft reboot (default: ${d.stopTimeoutSeconds})`,
      integer('--stop-timeout'),
    )
    .option(
      '--fail-image <name>',
      'servers booted from this Glance image name go to ERROR with a fault; repeatable (default: none)',
      collect,
    )
    .option(
      '--fail-flavor <name>',
      'servers of this flavor go to ERROR with "No valid host was found."; repeatable (default: none)',
      collect,
    )
    .option(
      '--quota-instances <count>',
      `servers per project (default: ${d.quotas.instances}; -1 for unlimited)`,
      integer('--quota-instances'),
    )
    .option(
      '--quota-cores <count>',
      `vCPUs per project (default: ${d.quotas.cores}; -1 for unlimited)`,
      integer('--quota-cores'),
    )
    .option(
      '--quota-ram <MiB>',
      `RAM per project in MiB (default: ${d.quotas.ram}; -1 for unlimited)`,
      integer('--quota-ram'),
    )
    .option('--network-name <name>', `name of the project network (default: ${d.networkName})`)
    .option(
      '--network-cidr <cidr>',
      `IPv4 subnet of the project network and its Docker network (default: ${d.networkCidr})`,
    )
    .addOption(
      new Option(
        '--address-mode <mode>',
        `docker: containers join an internal Docker bridge network; fake: no container network, addresses from the subnet; auto: docker when the engine allows it (default: ${d.addressMode})`,
      ).choices(['auto', 'docker', 'fake']),
    )
    .option(
      '--docker-prefix <prefix>',
      `prefix of Docker network names and labels, so dev clouds can share an engine (default: ${d.dockerNetworkPrefix})`,
    )
    .option('--log-level <level>', `pino log level (default: ${d.logLevel})`)
    .addHelpText(
      'after',
      `
Fixtures: domain Default; project "${d.projectName}"; users "${d.username}" (member) and "${d.adminUsername}" (admin);
application credential "operator"; network "${d.networkName}" with one subnet and security group "default";
flavors ${flavorList}.
The data folder receives clouds.yaml (clouds devcloud, devcloud-admin, devcloud-appcred) and devcloud.json (URLs, PID).`,
    )
    .action(async (options: DevcloudOptions, command: Command) => {
      let config;
      try {
        const file = options.config ? await readConfigFile(options.config) : {};
        const engineFromCli = command.getOptionValueSource('engine') === 'cli';
        config = resolveConfig(file, overridesFromFlags(options, engineFromCli));
      } catch (err) {
        command.error(`devcloud: ${(err as Error).message}`, { exitCode: 2 });
      }
      const log = createLogger({ level: config.logLevel, name: 'devcloud' });

      let cloud: DevCloud;
      try {
        cloud = await DevCloud.start(config, log);
      } catch (err) {
        log.fatal({ err }, 'dev cloud failed to start');
        process.exitCode = 1;
        return;
      }
      await new Promise<void>((resolve) => {
        const stop = (signal: NodeJS.Signals) => {
          log.info({ signal }, 'stopping the dev cloud');
          resolve();
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await cloud.stop();
    });
}
