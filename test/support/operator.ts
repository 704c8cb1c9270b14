/**
 * The real operator for end-to-end tests: `nova-docker-operator run` from
 * dist/ as a child process, with its JSON logs in a file and its metrics and
 * health servers on free loopback ports.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { repoRoot } from './host-packages.js';
import { registerCleanup } from './hooks.js';
import { freePort, isRunning, startServer, waitFor, type ServerProcess } from './process.js';
import { logTail, makeStateDir, removeStateDir } from './state.js';

const mainScript = join(repoRoot, 'dist/src/main.js');

/** Options for startOperator. */
export interface OperatorOptions {
  /** Name in logs and of the state folder, e.g. `devcloud`. */
  name: string;
  kubeconfigPath: string;
  /** `namespace/name` of the Secret with the clouds.yaml for instances without spec.cloud. */
  defaultCloudSecret: string;
  /** The Docker Engine the operator pulls registry images with, as a DOCKER_HOST value. */
  dockerHost: string;
  /** Watch this namespace only, so operators of parallel suites on one apiserver never meet. */
  namespace: string;
  /** More flags for `run`, such as ['--poll-interval-active', '1s']. @default [] */
  extraArgs?: string[];
}

/** A running operator; the root afterAll hook stops it. */
export interface Operator {
  process: ServerProcess;
  logPath: string;
  /** `http://127.0.0.1:PORT/metrics`. */
  metricsUrl: string;
  /** Returns the JSON log lines written so far. */
  logLines(): Promise<Record<string, unknown>[]>;
}

/**
 * Starts the operator and resolves once /readyz returns 200. Rejects with
 * the end of its log when it exits or is not ready within 60 s.
 */
export async function startOperator(options: OperatorOptions): Promise<Operator> {
  const dir = await makeStateDir(`op-${options.name}`);
  registerCleanup(`operator ${options.name} state folder`, () => removeStateDir(dir));
  const logPath = join(dir, 'operator.log');
  const metricsPort = await freePort();
  const healthPort = await freePort();

  const server = await startServer({
    name: `operator ${options.name}`,
    command: process.execPath,
    args: [
      mainScript,
      'run',
      '--kubeconfig',
      options.kubeconfigPath,
      '--namespace',
      options.namespace,
      '--default-cloud-secret',
      options.defaultCloudSecret,
      '--metrics-bind-address',
      `127.0.0.1:${metricsPort}`,
      '--health-probe-bind-address',
      `127.0.0.1:${healthPort}`,
      '--log-level',
      'debug',
      ...(options.extraArgs ?? []),
    ],
    logPath,
    env: { ...process.env, DOCKER_HOST: options.dockerHost },
  });

  try {
    await waitFor(`operator ${options.name} /readyz`, async () => {
      if (!isRunning(server.pid) || server.child.exitCode !== null) {
        throw new Error(`operator exited with ${server.child.exitCode}`);
      }
      const response = await fetch(`http://127.0.0.1:${healthPort}/readyz`);
      return response.status === 200;
    });
  } catch (err) {
    throw new Error(
      `operator ${options.name} did not become ready: ${String(err)}\nlast lines of ${logPath}:\n${await logTail(logPath)}`,
      { cause: err },
    );
  }

  return {
    process: server,
    logPath,
    metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
    async logLines() {
      const text = await readFile(logPath, 'utf8');
      return text
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>);
    },
  };
}
