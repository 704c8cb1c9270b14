/**
 * Starts an operator process (by default the test operator: the real `run`
 * command with a test reconciler) as a child process and reads its logs.
 */
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { repoRoot } from './host-packages.js';
import { startServer, waitFor, type ServerProcess } from './process.js';
import { makeStateDir, removeStateDir } from './state.js';
import { registerCleanup } from './hooks.js';

const fixture = join(repoRoot, 'dist/test/fixtures/test-operator.js');

/** The built nova-docker-operator command line, for tests of the real reconciler. */
export const operatorMain = join(repoRoot, 'dist/src/main.js');

/** A running test operator. */
export interface OperatorProcess {
  server: ServerProcess;
  /** File with everything the process wrote to stdout and stderr. */
  logPath: string;
  /** Base URL of its metrics and health server, e.g. http://127.0.0.1:40123. */
  url: string;
  /** Every JSON log line written so far. */
  logLines(): Promise<Record<string, unknown>[]>;
  /** Resolves with the exit code (or the signal name) once the process exited. */
  exited: Promise<number | string>;
}

/**
 * Starts `<script> run` with the given flags, serving metrics and health on
 * one free port, and waits until that server listens. script defaults to
 * the test operator; pass {@link operatorMain} for the real one.
 */
export async function startOperatorProcess(
  name: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
  script: string = fixture,
): Promise<OperatorProcess> {
  const dir = await makeStateDir(`op-${name}`);
  registerCleanup(`operator ${name} state folder`, () => removeStateDir(dir));
  const logPath = join(dir, 'operator.log');
  const server = await startServer({
    name: `operator ${name}`,
    command: process.execPath,
    args: [
      script,
      'run',
      '--metrics-bind-address',
      '127.0.0.1:0',
      '--health-probe-bind-address',
      '127.0.0.1:0',
      '--log-level',
      'debug',
      ...args,
    ],
    logPath,
    env: { ...process.env, POD_NAME: name, ...env },
  });
  const exited = once(server.child, 'exit').then(
    ([code, signal]) => (signal as string | null) ?? (code as number),
  );

  const logLines = async () =>
    (await readFile(logPath, 'utf8'))
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);

  let address: string | undefined;
  await waitFor(
    `operator ${name} HTTP server (log ${logPath})`,
    async () => {
      const line = (await logLines()).find((entry) => entry.msg === 'HTTP server listening');
      address = line?.address as string | undefined;
      return address !== undefined || server.child.exitCode !== null;
    },
    60_000,
  );
  if (!address) throw new Error(`operator ${name} exited before listening; see ${logPath}`);
  return { server, logPath, url: `http://${address}`, logLines, exited };
}

/** GETs a path of the operator's HTTP server and returns the status and body. */
export async function httpGet(url: string): Promise<{ status: number; body: string }> {
  const response = await fetch(url);
  return { status: response.status, body: await response.text() };
}
