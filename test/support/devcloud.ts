import { randomInt } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { registerCleanup } from './hooks.js';
import { isRunning, startServer, type ServerProcess } from './process.js';
import { makeStateDir, removeStateDir } from './state.js';

/** Options of startDevCloud; anything else goes through extraArgs as command-line flags. */
export interface DevCloudOptions {
  /** Docker Engine socket to run containers on; without it the dev cloud runs with --no-engine. */
  dockerSocket?: string;
  /** Data folder to use, e.g. the one of a stopped dev cloud to test a restart. @default a new temp folder, removed after the run */
  dataDir?: string;
  /**
   * Let containers join an internal Docker bridge network (--address-mode docker).
   * Off by default, because that adds a bridge interface to the machine and the
   * harness dockerd keeps the machine's network unchanged. Without it, addresses
   * come from the subnet pool (--address-mode fake).
   * @default false
   */
  dockerNetwork?: boolean;
  /** Name in logs and the log file name. @default devcloud */
  name?: string;
  /** Extra flags for `nova-docker-operator devcloud`, such as ['--build-delay', '500']. */
  extraArgs?: string[];
  /** Register a stop with the root afterAll hook. @default true */
  stopAfterRun?: boolean;
}

/** A dev cloud started for a test, as a child process on a free port of 127.0.0.1. */
export interface DevCloud {
  authUrl: string;
  /** The generated clouds.yaml text; it contains the dev cloud's passwords, so never log it. */
  cloudsYaml: string;
  cloudsYamlPath: string;
  /** Cloud of the member user "operator". */
  cloudName: string;
  /** Cloud of the "admin" user. */
  adminCloudName: string;
  /** Root of the dev cloud's admin endpoint: /stats, /faults, /quotas/{project}, /servers, /settle. */
  adminUrl: string;
  endpoints: { identity: string; compute: string; image: string; network: string };
  projectId: string;
  networkName: string;
  networkId: string;
  flavors: string[];
  dataDir: string;
  /** Docker network and label prefix of this dev cloud (only meaningful with a Docker socket). */
  dockerPrefix: string;
  process: ServerProcess;
  /** Stops the process (SIGTERM, then SIGKILL); the data folder stays for a restart. */
  stop(): Promise<void>;
}

const mainScript = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/main.js');

/**
 * Starts `nova-docker-operator devcloud` from dist/ as a child process with a
 * free port and its own data folder, and resolves once devcloud.json names its
 * URLs. With a Docker socket, each dev cloud gets its own network prefix and a
 * random 10.x.y.0/24 subnet, so dev clouds of parallel runs can share an engine.
 * Rejects with the log path when the process exits or is not ready in 60 s.
 */
export async function startDevCloud(options: DevCloudOptions = {}): Promise<DevCloud> {
  const name = options.name ?? 'devcloud';
  let dataDir = options.dataDir;
  if (!dataDir) {
    const created = await makeStateDir('dc');
    dataDir = created;
    // Registered before the process starts, so it runs after the process stops (cleanups run newest first).
    registerCleanup(`${name} data folder`, () => removeStateDir(created));
  }
  const infoPath = path.join(dataDir, 'devcloud.json');
  await rm(infoPath, { force: true });

  const dockerPrefix = await persistentPrefix(dataDir);
  const args = [mainScript, 'devcloud', '--port', '0', '--data-dir', dataDir];
  if (options.dockerSocket) {
    args.push(
      '--docker-socket',
      options.dockerSocket,
      '--docker-prefix',
      dockerPrefix.prefix,
      '--network-cidr',
      dockerPrefix.cidr,
      '--address-mode',
      options.dockerNetwork ? 'docker' : 'fake',
    );
  } else {
    args.push('--no-engine');
  }
  args.push(...(options.extraArgs ?? []));

  const server = await startServer({
    name,
    command: process.execPath,
    args,
    logPath: path.join(dataDir, `${name}.log`),
    stopAfterRun: options.stopAfterRun ?? true,
  });

  const info = await waitForInfo(server, infoPath, name);

  const cloudsYamlPath = info.cloudsYamlPath as string;
  return {
    authUrl: info.authUrl as string,
    cloudsYaml: await readFile(cloudsYamlPath, 'utf8'),
    cloudsYamlPath,
    cloudName: info.cloudName as string,
    adminCloudName: info.adminCloudName as string,
    adminUrl: info.adminUrl as string,
    endpoints: info.endpoints as DevCloud['endpoints'],
    projectId: info.projectId as string,
    networkName: info.networkName as string,
    networkId: info.networkId as string,
    flavors: info.flavors as string[],
    dataDir,
    dockerPrefix: dockerPrefix.prefix,
    process: server,
    stop: () => server.stop(),
  };
}

/** Polls for devcloud.json of this process; rejects at once when the process exits, with the end of its log. */
async function waitForInfo(
  server: ServerProcess,
  infoPath: string,
  name: string,
): Promise<Record<string, unknown>> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (
      server.child.exitCode !== null ||
      server.child.signalCode !== null ||
      !isRunning(server.pid)
    ) {
      const log = await readFile(server.logPath, 'utf8').catch(() => '');
      throw new Error(
        `${name} exited before it was ready (code ${server.child.exitCode}); log ${server.logPath}:\n${log.slice(-2000)}`,
      );
    }
    try {
      const parsed = JSON.parse(await readFile(infoPath, 'utf8')) as Record<string, unknown>;
      if (parsed.pid === server.pid) return parsed;
    } catch {
      // Not written yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await server.stop();
  throw new Error(`${name} did not write ${infoPath} within 60 s; see ${server.logPath}`);
}

/** Keeps a dev cloud's Docker prefix and subnet in its data folder, so a restart finds its network again. */
async function persistentPrefix(dataDir: string): Promise<{ prefix: string; cidr: string }> {
  const file = path.join(dataDir, 'test-docker-network.json');
  try {
    return JSON.parse(await readFile(file, 'utf8')) as { prefix: string; cidr: string };
  } catch {
    const value = {
      prefix: `dctest-${randomInt(1e9).toString(36)}`,
      cidr: `10.${randomInt(1, 255)}.${randomInt(0, 256)}.0/24`,
    };
    await writeFile(file, JSON.stringify(value));
    return value;
  }
}

/** Issues a token for the dev cloud's member user (or admin); returns the token and the catalog's project ID. */
export async function devCloudToken(
  cloud: DevCloud,
  user: 'operator' | 'admin' = 'operator',
): Promise<string> {
  const password = user === 'admin' ? 'devcloud-admin' : 'devcloud';
  const response = await fetch(`${cloud.authUrl}/auth/tokens`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({
      auth: {
        identity: {
          methods: ['password'],
          password: { user: { name: user, domain: { name: 'Default' }, password } },
        },
        scope: { project: { id: cloud.projectId } },
      },
    }),
  });
  if (response.status !== 201) {
    throw new Error(
      `token request to ${cloud.authUrl} failed with ${response.status}: ${await response.text()}`,
    );
  }
  return response.headers.get('x-subject-token')!;
}

/** Calls the dev cloud's admin endpoint and returns the parsed JSON; throws on a non-2xx status with the body. */
export async function devCloudAdmin<T = unknown>(
  cloud: DevCloud,
  method: string,
  route: string,
  body?: unknown,
): Promise<T> {
  const response = await fetch(`${cloud.adminUrl}${route}`, {
    method,
    headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok)
    throw new Error(`admin ${method} ${route} failed with ${response.status}: ${text}`);
  return JSON.parse(text) as T;
}
