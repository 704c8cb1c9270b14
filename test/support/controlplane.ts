/**
 * A real Kubernetes control plane for tests: etcd and kube-apiserver from
 * test/controlplane/control-plane.sh, started once per mocha run on free
 * 127.0.0.1 ports with a fresh temp folder, and stopped by PID after the run.
 * The script owns the build, the certificates and the server flags; this
 * helper only runs its steps and owns the processes.
 */
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { KubeConfig } from '@kubernetes/client-node';

import { registerCleanup } from './hooks.js';
import { repoRoot } from './host-packages.js';
import { freePort, startServer, type ServerProcess } from './process.js';
import { logTail, makeStateDir, removeStateDir } from './state.js';

const execFileAsync = promisify(execFile);

const script = join(repoRoot, 'test/controlplane/control-plane.sh');

/** The first build of etcd, kube-apiserver and kubectl compiles Kubernetes; later calls reuse the cache. */
const BUILD_TIMEOUT_MS = 60 * 60_000;

/** The result of a kubectl call. */
export interface KubectlResult {
  stdout: string;
  stderr: string;
  code: number;
}

/** Options for ControlPlane.kubectl. */
export interface KubectlOptions {
  /** Written to kubectl's stdin, e.g. a manifest for `apply -f -`. */
  input?: string;
  /** Resolve with the exit code instead of rejecting when kubectl fails. @default false */
  allowFailure?: boolean;
}

/** A running etcd and kube-apiserver; the admin user (group system:masters) is in the kubeconfig. */
export interface ControlPlane {
  /** The apiserver URL, `https://127.0.0.1:PORT`. */
  server: string;
  /** A kubeconfig file with the CA and the admin client certificate embedded. */
  kubeconfigPath: string;
  /** Returns a new KubeConfig loaded from kubeconfigPath, so callers may change it freely. */
  kubeConfig(): KubeConfig;
  /** Runs the built kubectl against this apiserver; rejects with stderr on a non-zero exit unless allowFailure. */
  kubectl(args: string[], options?: KubectlOptions): Promise<KubectlResult>;
  /** The built kubectl binary, for callers that stream its output (e.g. `get --watch`). */
  kubectlPath: string;
  pids: { etcd: number; apiserver: number };
}

let shared: Promise<ControlPlane> | undefined;

/**
 * Starts the control plane on first call and returns the same one to every
 * later caller in this mocha run. The root afterAll hook stops it. When the
 * binary cache misses, this builds them first, which takes minutes, so
 * `make test` builds them before mocha starts. Throws with the server log
 * tails when /readyz is not ok within 90 s.
 */
export function useControlPlane(): Promise<ControlPlane> {
  shared ??= startControlPlane().catch((err: unknown) => {
    shared = undefined;
    throw err;
  });
  return shared;
}

async function startControlPlane(): Promise<ControlPlane> {
  const { stdout: built } = await execFileAsync(script, ['build'], { timeout: BUILD_TIMEOUT_MS });
  const binDir = built.trim().split('\n').at(-1)!;

  const dir = await makeStateDir('cp');
  registerCleanup('control plane state folder', () => removeStateDir(dir));
  const ports = [await freePort(), await freePort(), await freePort()];
  await execFileAsync(script, ['prepare', dir, ...ports.map(String)]);

  // Started in this order so the root hook, which runs cleanups newest first,
  // stops kube-apiserver before etcd.
  const etcd = await startServer({
    name: 'etcd',
    command: script,
    args: ['run', 'etcd', dir],
    logPath: join(dir, 'etcd.log'),
  });
  const apiserver = await startServer({
    name: 'kube-apiserver',
    command: script,
    args: ['run', 'kube-apiserver', dir],
    logPath: join(dir, 'kube-apiserver.log'),
  });

  const waiting = new AbortController();
  try {
    await Promise.race([
      execFileAsync(script, ['wait', dir, '90'], { signal: waiting.signal }),
      failOnExit(etcd),
      failOnExit(apiserver),
    ]);
  } catch (err) {
    waiting.abort();
    const logs = [
      `last lines of ${apiserver.logPath}:\n${await logTail(apiserver.logPath)}`,
      `last lines of ${etcd.logPath}:\n${await logTail(etcd.logPath)}`,
    ];
    await apiserver.stop();
    await etcd.stop();
    throw new Error(`control plane did not become ready: ${String(err)}\n${logs.join('\n')}`, {
      cause: err,
    });
  }

  const kubeconfigPath = join(dir, 'kubeconfig');
  const kubectlPath = join(binDir, 'kubectl');
  return {
    server: `https://127.0.0.1:${ports[2]}`,
    kubeconfigPath,
    kubeConfig() {
      const config = new KubeConfig();
      config.loadFromFile(kubeconfigPath);
      return config;
    },
    kubectl: (args, options) => runKubectl(kubectlPath, kubeconfigPath, args, options),
    kubectlPath,
    pids: { etcd: etcd.pid, apiserver: apiserver.pid },
  };
}

/** Rejects when the server exits, so a crash at startup fails at once instead of after the readiness timeout. */
async function failOnExit(server: ServerProcess): Promise<never> {
  const [code, signal] = (await once(server.child, 'exit')) as [number | null, string | null];
  throw new Error(`${server.name} (PID ${server.pid}) exited with ${signal ?? `code ${code}`}`);
}

async function runKubectl(
  kubectlPath: string,
  kubeconfigPath: string,
  args: string[],
  options: KubectlOptions = {},
): Promise<KubectlResult> {
  const child = spawn(kubectlPath, [`--kubeconfig=${kubeconfigPath}`, ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  child.stdin.end(options.input ?? '');

  const [code, signal] = (await once(child, 'close')) as [number | null, string | null];
  const result = { stdout, stderr, code: code ?? 128 };
  if (result.code !== 0 && !options.allowFailure) {
    throw new Error(
      `kubectl ${args.join(' ')} failed with ${signal ?? `exit code ${code}`}: ${stderr.trim()}`,
    );
  }
  return result;
}
