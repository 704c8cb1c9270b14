/**
 * A private Docker Engine for tests: Debian's dockerd started by the harness
 * with its own data root, exec root, pid file, config file and unix socket,
 * so tests never touch the machine's Docker and several worktrees can run
 * at once. The registry, the offline test image and the push and pull
 * helpers live in their own files and are re-exported here.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';

import Docker from 'dockerode';

import { registerCleanup } from './hooks.js';
import { requireExecutables } from './host-packages.js';
import { isRunning, startServer, waitFor } from './process.js';
import { logTail, makeStateDir, removeStateDir } from './state.js';

export { startRegistry, useRegistry, type Registry, type RegistryOptions } from './registry.js';
export { buildTestImage, type TestImage, type TestImageOptions } from './test-image.js';
export {
  followProgress,
  pullImage,
  pushImage,
  type DockerProgressEvent,
  type RegistryAuth,
} from './image-transfer.js';

/** A dockerd the harness started; it stops after the mocha run. */
export interface DockerEngine {
  /** Absolute path of the engine's unix socket. */
  socketPath: string;
  /** The socket as a DOCKER_HOST value, `unix:///...`. */
  host: string;
  /** A Docker Engine API client bound to this engine. */
  docker: Docker;
  /** PID of dockerd. */
  pid: number;
}

let engine: Promise<DockerEngine> | undefined;

/**
 * Starts the harness dockerd on first call and returns the same engine to
 * every later caller in this mocha run. Sets process.env.DOCKER_HOST to it,
 * so docker CLI calls from tests reach this engine and never the machine's.
 * Throws with dockerd's log tail when it does not respond within 60 s; needs root.
 */
export function useDocker(): Promise<DockerEngine> {
  engine ??= startDocker().catch((err: unknown) => {
    engine = undefined;
    throw err;
  });
  return engine;
}

async function startDocker(): Promise<DockerEngine> {
  if (process.getuid?.() !== 0) {
    throw new Error(
      'dockerd for tests needs root (it mounts overlay filesystems); run the tests as root',
    );
  }
  const { dockerd } = await requireExecutables({ dockerd: 'docker.io' });

  const dir = await makeStateDir('dk');
  const socketPath = join(dir, 'docker.sock');
  const configFile = join(dir, 'daemon.json');
  const logPath = join(dir, 'dockerd.log');

  // An empty config file keeps /etc/docker/daemon.json (hosts, mirrors) out.
  await writeFile(configFile, '{}\n');

  // When a system containerd is running, dockerd uses it instead of its own;
  // a namespace per engine keeps the containers of parallel runs apart.
  const namespace = `ndo-test-${randomBytes(4).toString('hex')}`;
  const server = await startServer({
    name: 'dockerd',
    command: dockerd,
    args: [
      `--config-file=${configFile}`,
      `--data-root=${join(dir, 'data')}`,
      `--exec-root=${join(dir, 'exec')}`,
      `--pidfile=${join(dir, 'docker.pid')}`,
      `--host=unix://${socketPath}`,
      `--containerd-namespace=${namespace}`,
      `--containerd-plugins-namespace=${namespace}-plugins`,
      // No bridge and no iptables rules: the harness engine must not change the
      // machine's network. Containers use --network=none or host.
      '--bridge=none',
      '--iptables=false',
      '--ip6tables=false',
      '--ip-forward=false',
      '--ip-masq=false',
    ],
    logPath,
    stopAfterRun: false,
  });

  const docker = new Docker({ socketPath });
  registerCleanup('dockerd', async () => {
    await removeAllContainers(docker);
    await server.stop(30_000);
    await removeStateDir(dir);
  });

  try {
    await waitFor('dockerd to respond to /_ping', async () => {
      if (!isRunning(server.pid)) throw new Error('dockerd exited');
      await docker.ping();
      return true;
    });
  } catch (err) {
    throw new Error(
      `dockerd did not start: ${String(err)}\nlast lines of ${logPath}:\n${await logTail(logPath)}`,
      { cause: err },
    );
  }

  const host = `unix://${socketPath}`;
  process.env.DOCKER_HOST = host;
  return { socketPath, host, docker, pid: server.pid };
}

/** Force-removes every container so dockerd stops quickly and leaves no container shim behind. */
async function removeAllContainers(docker: Docker): Promise<void> {
  try {
    const containers = await docker.listContainers({ all: true });
    await Promise.all(
      containers.map((c) => docker.getContainer(c.Id).remove({ force: true, v: true })),
    );
  } catch (err) {
    console.error(`could not remove the test containers before stopping dockerd: ${String(err)}`);
  }
}
