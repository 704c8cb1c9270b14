/**
 * Debian's docker-registry (distribution 2.8) for tests, on 127.0.0.1 with
 * its own storage folder and config. It serves plain HTTP: dockerd treats
 * 127.0.0.0/8 as an insecure registry by default, so push and pull work
 * without TLS.
 */
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';

import { registerCleanup } from './hooks.js';
import { requireExecutables } from './host-packages.js';
import { freePort, isRunning, startServer, waitFor } from './process.js';
import { logTail, makeStateDir, removeStateDir } from './state.js';

const execFileAsync = promisify(execFile);

/** A registry the harness started; it stops after the mocha run at the latest. */
export interface Registry {
  /** `127.0.0.1:PORT`, the prefix of image references in this registry. */
  host: string;
  /** `http://127.0.0.1:PORT`, the base of the registry HTTP API. */
  url: string;
  /** PID of docker-registry. */
  pid: number;
  /** The credentials the registry requires, when it was started with htpasswd. */
  auth?: { username: string; password: string };
  /** Stops the registry and removes its storage; safe to call more than once. */
  stop(): Promise<void>;
}

/** Options for startRegistry. */
export interface RegistryOptions {
  /** Require HTTP basic authentication with this one user. @default no authentication */
  htpasswd?: { username: string; password: string };
}

let shared: Promise<Registry> | undefined;

/**
 * Starts an anonymous registry on first call and returns the same one to
 * every later caller in this mocha run.
 */
export function useRegistry(): Promise<Registry> {
  shared ??= startRegistry().catch((err: unknown) => {
    shared = undefined;
    throw err;
  });
  return shared;
}

/**
 * Starts a new registry with its own storage on a free loopback port, for
 * tests that need a private one (for example with basic authentication).
 * Throws with the registry's log tail when /v2/ does not respond within 30 s.
 */
export async function startRegistry(options: RegistryOptions = {}): Promise<Registry> {
  const commands = await requireExecutables({
    'docker-registry': 'docker-registry',
    // Checked even without htpasswd, so every registry start needs the same packages.
    htpasswd: 'apache2-utils',
  });

  const dir = await makeStateDir('reg');
  const port = await freePort();
  const configPath = join(dir, 'config.yml');
  const logPath = join(dir, 'registry.log');

  let authSection = '';
  if (options.htpasswd) {
    // The registry accepts only bcrypt entries; htpasswd -B writes them.
    const { stdout } = await execFileAsync(commands.htpasswd, [
      '-nbB',
      options.htpasswd.username,
      options.htpasswd.password,
    ]);
    await writeFile(join(dir, 'htpasswd'), stdout.trim() + '\n', { mode: 0o600 });
    authSection = `auth:\n  htpasswd:\n    realm: nova-docker-operator-test\n    path: ${join(dir, 'htpasswd')}\n`;
  }
  await writeFile(
    configPath,
    [
      'version: 0.1',
      'log:',
      '  level: info',
      '  formatter: text',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${join(dir, 'storage')}`,
      '  delete:',
      '    enabled: true',
      'http:',
      `  addr: 127.0.0.1:${port}`,
      `  secret: ${randomBytes(16).toString('hex')}`,
      '',
    ].join('\n') + authSection,
  );

  const server = await startServer({
    name: 'docker-registry',
    command: commands['docker-registry'],
    args: ['serve', configPath],
    logPath,
    stopAfterRun: false,
  });

  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopped ??= server.stop().then(() => removeStateDir(dir));
    return stopped;
  };
  registerCleanup(`docker-registry on port ${port}`, stop);

  const url = `http://127.0.0.1:${port}`;
  try {
    await waitFor(
      `docker-registry to respond on ${url}/v2/`,
      async () => {
        if (!isRunning(server.pid)) throw new Error('docker-registry exited');
        const response = await fetch(`${url}/v2/`);
        // 401 is the ready response of a registry that requires authentication.
        return response.status === 200 || response.status === 401;
      },
      30_000,
    );
  } catch (err) {
    throw new Error(
      `docker-registry did not start: ${String(err)}\nlast lines of ${logPath}:\n${await logTail(logPath)}`,
      { cause: err },
    );
  }

  const registry: Registry = { host: `127.0.0.1:${port}`, url, pid: server.pid, stop };
  if (options.htpasswd) registry.auth = { ...options.htpasswd };
  return registry;
}
