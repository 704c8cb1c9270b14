/** Starts the test operator (the real `run` command with a test reconciler) as a child process and reads its logs. */
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { repoRoot } from './host-packages.js';
import { startServer, waitFor, type ServerProcess } from './process.js';
import { makeStateDir, removeStateDir } from './state.js';
import { registerCleanup } from './hooks.js';

const fixture = join(repoRoot, 'dist/test/fixtures/test-operator.js');

/** A running test operator. */
export interface OperatorProcess {
  server: ServerProcess;
  /** Base URL of its metrics and health server, e.g. http://127.0.0.1:40123. */
  url: string;
  /** Every JSON log line written so far. */
  logLines(): Promise<Record<string, unknown>[]>;
  /** Resolves with the exit code (or the signal name) once the process exited. */
  exited: Promise<number | string>;
}

/**
 * Starts `test-operator run` with the given flags, serving metrics and
 * health on one free port, and waits until that server listens.
 */
export async function startOperatorProcess(
  name: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<OperatorProcess> {
  const dir = await makeStateDir(`op-${name}`);
  registerCleanup(`operator ${name} state folder`, () => removeStateDir(dir));
  const logPath = join(dir, 'operator.log');
  const server = await startServer({
    name: `operator ${name}`,
    command: process.execPath,
    args: [
      fixture,
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
  return { server, url: `http://${address}`, logLines, exited };
}

/** GETs a path of the operator's HTTP server and returns the status and body. */
export async function httpGet(url: string): Promise<{ status: number; body: string }> {
  const response = await fetch(url);
  return { status: response.status, body: await response.text() };
}
