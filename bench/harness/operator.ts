/**
 * The operator under test, `nova-docker-operator run` from dist/, as a child
 * process of the benchmark, with its memory and CPU sampled from /proc.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { freePort, startServer, waitFor, type ServerProcess } from '../../test/support/process.js';
import { logTail } from '../../test/support/state.js';
import { ProcSampler } from './proc-sampler.js';

const mainScript = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/main.js');

/** Settings of one operator process. */
export interface OperatorSettings {
  kubeconfigPath: string;
  namespace: string;
  /** Reconciles at the same time (--concurrency). */
  concurrency: number;
  /** --poll-interval-active, e.g. "1s". */
  pollIntervalActive: string;
  /** --poll-interval-idle, e.g. "60s". */
  pollIntervalIdle: string;
  /** More flags, such as ['--server-observer', 'per-instance']. */
  extraArgs: string[];
  /** Environment variables added to the benchmark's own, such as NODE_OPTIONS. */
  env: Record<string, string>;
  /** Folder for the log file. */
  logDir: string;
  label: string;
}

/** A running operator with its sampler. */
export interface OperatorProcess {
  process: ServerProcess;
  sampler: ProcSampler;
  metricsUrl: string;
  /** Stops sampling and the process (SIGTERM, then SIGKILL after 30 s). */
  stop(): Promise<void>;
}

/**
 * Starts the operator watching one namespace, waits until /readyz returns
 * 200, and starts sampling it every 250 ms. Rejects with the end of its log
 * when it exits or is not ready within 60 s.
 */
export async function startOperator(settings: OperatorSettings): Promise<OperatorProcess> {
  const metricsPort = await freePort();
  const healthPort = await freePort();
  const args = [
    mainScript,
    'run',
    '--kubeconfig',
    settings.kubeconfigPath,
    '--namespace',
    settings.namespace,
    '--concurrency',
    String(settings.concurrency),
    '--poll-interval-active',
    settings.pollIntervalActive,
    '--poll-interval-idle',
    settings.pollIntervalIdle,
    '--metrics-bind-address',
    `127.0.0.1:${metricsPort}`,
    '--health-probe-bind-address',
    `127.0.0.1:${healthPort}`,
    ...settings.extraArgs,
  ];
  const server = await startServer({
    name: `operator-${settings.label}`,
    command: process.execPath,
    args,
    logPath: path.join(settings.logDir, `operator-${settings.label}.log`),
    env: { ...process.env, ...settings.env },
  });
  const sampler = new ProcSampler(server.pid).start();

  try {
    await waitFor(
      `operator ${settings.label} /readyz on 127.0.0.1:${healthPort}`,
      async () => {
        if (server.child.exitCode !== null || server.child.signalCode !== null) {
          throw new Error(
            `the operator exited with ${server.child.signalCode ?? server.child.exitCode}`,
          );
        }
        const response = await fetch(`http://127.0.0.1:${healthPort}/readyz`);
        return response.status === 200;
      },
      60_000,
    );
  } catch (err) {
    sampler.stop();
    await server.stop();
    throw new Error(
      `${(err as Error).message}\nlast lines of ${server.logPath}:\n${await logTail(server.logPath)}`,
      { cause: err },
    );
  }

  return {
    process: server,
    sampler,
    metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
    async stop() {
      sampler.stop();
      await server.stop(30_000);
    },
  };
}
