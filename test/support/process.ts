import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import net from 'node:net';

import { registerCleanup } from './hooks.js';

/** A server process the harness started and will stop by PID. */
export interface ServerProcess {
  name: string;
  pid: number;
  logPath: string;
  child: ChildProcess;
  /** Sends SIGTERM, waits up to graceMs, then SIGKILL. Resolves when the process has exited. */
  stop(graceMs?: number): Promise<void>;
}

export interface StartOptions {
  name: string;
  command: string;
  args: string[];
  logPath: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Register a stop with the root afterAll hook. @default true */
  stopAfterRun?: boolean;
}

/**
 * Starts a server in its own process group with stdout and stderr appended to
 * logPath. The process is stopped by its PID (and its group) only; nothing is
 * ever killed by name.
 */
export async function startServer(options: StartOptions): Promise<ServerProcess> {
  const log = createWriteStream(options.logPath, { flags: 'a' });
  await once(log, 'open');
  const child = spawn(options.command, options.args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: ['ignore', log, log],
    detached: true,
  });
  await Promise.race([
    once(child, 'spawn'),
    once(child, 'error').then(([err]) => {
      throw new Error(`failed to start ${options.name} (${options.command}): ${String(err)}`);
    }),
  ]);
  const pid = child.pid!;
  let exited = child.exitCode !== null || child.signalCode !== null;
  const exit = once(child, 'exit').then(() => {
    exited = true;
  });

  const server: ServerProcess = {
    name: options.name,
    pid,
    logPath: options.logPath,
    child,
    async stop(graceMs = 10_000) {
      if (!exited) signalGroup(pid, 'SIGTERM');
      const timer = setTimeout(() => {
        if (!exited) signalGroup(pid, 'SIGKILL');
      }, graceMs);
      await exit;
      clearTimeout(timer);
      log.end();
    },
  };
  if (options.stopAfterRun ?? true) registerCleanup(options.name, () => server.stop());
  return server;
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // Already gone.
    }
  }
}

/** Returns whether a process with this PID exists (signal 0 probe). */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Returns a TCP port on 127.0.0.1 that was free a moment ago. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

/**
 * Polls check until it resolves true, or throws after timeoutMs with the
 * description and the last error, so a failed start names what never came up.
 */
export async function waitFor(
  description: string,
  check: () => Promise<boolean>,
  timeoutMs = 60_000,
  intervalMs = 200,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (err) {
      lastError = err;
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  throw new Error(
    `timed out after ${timeoutMs} ms waiting for ${description}` +
      (lastError ? `: ${String(lastError)}` : ''),
  );
}
