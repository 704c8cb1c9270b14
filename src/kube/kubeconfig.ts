import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';

import { KubeConfig } from '@kubernetes/client-node';

import { shareDispatchers } from './dispatcher-cache.js';

/** Source of the cluster credentials that loadKubeConfig used. */
export type KubeConfigSource = 'flag' | 'KUBECONFIG' | 'in-cluster' | 'home';

/** A loaded client configuration and where it came from, for the startup log line. */
export interface LoadedKubeConfig {
  kubeConfig: KubeConfig;
  source: KubeConfigSource;
  /** The file read, or the service account folder when running in a Pod. */
  location: string;
  /** The API server URL of the current context. */
  server: string;
}

/** Inputs of loadKubeConfig; the environment is injectable for tests. */
export interface LoadKubeConfigOptions {
  /** Path given with --kubeconfig; it wins over every other source. */
  kubeconfig?: string;
  /** @default process.env */
  env?: NodeJS.ProcessEnv;
  /** @default os.homedir() */
  home?: string;
}

const serviceAccountDir = '/var/run/secrets/kubernetes.io/serviceaccount';

/**
 * Loads the Kubernetes client configuration in the order controller-runtime
 * uses: the --kubeconfig path, then the KUBECONFIG variable (a list of files
 * separated by the path delimiter, merged), then the Pod's service account
 * when KUBERNETES_SERVICE_HOST is set, then ~/.kube/config.
 * Throws an Error naming each place it looked when none yields a cluster.
 */
export function loadKubeConfig(options: LoadKubeConfigOptions = {}): LoadedKubeConfig {
  const env = options.env ?? process.env;
  const kubeConfig = new KubeConfig();
  let source: KubeConfigSource;
  let location: string;

  if (options.kubeconfig) {
    if (!existsSync(options.kubeconfig)) {
      throw new Error(
        `kubeconfig file "${options.kubeconfig}" does not exist; pass an existing file with --kubeconfig`,
      );
    }
    kubeConfig.loadFromFile(options.kubeconfig);
    source = 'flag';
    location = options.kubeconfig;
  } else if (env.KUBECONFIG) {
    const files = env.KUBECONFIG.split(path.delimiter).filter(Boolean);
    const missing = files.filter((file) => !existsSync(file));
    if (missing.length === files.length) {
      throw new Error(
        `none of the files in KUBECONFIG exist: ${files.join(', ')}; fix KUBECONFIG or pass --kubeconfig`,
      );
    }
    mergeKubeConfigFiles(
      kubeConfig,
      files.filter((file) => !missing.includes(file)),
    );
    source = 'KUBECONFIG';
    location = files.join(path.delimiter);
  } else if (env.KUBERNETES_SERVICE_HOST && existsSync(path.join(serviceAccountDir, 'token'))) {
    kubeConfig.loadFromCluster();
    source = 'in-cluster';
    location = serviceAccountDir;
  } else {
    const homeConfig = path.join(options.home ?? homedir(), '.kube', 'config');
    if (!existsSync(homeConfig)) {
      throw new Error(
        'no Kubernetes configuration found: --kubeconfig is not set, KUBECONFIG is empty, ' +
          `this is not a Pod (no KUBERNETES_SERVICE_HOST and service account token), and ${homeConfig} does not exist; ` +
          'pass --kubeconfig PATH',
      );
    }
    kubeConfig.loadFromFile(homeConfig);
    source = 'home';
    location = homeConfig;
  }

  const cluster = kubeConfig.getCurrentCluster();
  if (!cluster) {
    const context = kubeConfig.getCurrentContext() || '(none)';
    throw new Error(
      `kubeconfig ${location} has no cluster for its current context "${context}"; set current-context`,
    );
  }
  shareDispatchers(kubeConfig);
  return { kubeConfig, source, location, server: cluster.server };
}

/**
 * Merges kubeconfig files the way kubectl does: the first file that sets
 * current-context wins, and the first cluster, user or context of a name wins.
 */
function mergeKubeConfigFiles(target: KubeConfig, files: string[]): void {
  const merged = { clusters: new Map(), users: new Map(), contexts: new Map() } as const;
  let currentContext = '';
  for (const file of files) {
    const part = new KubeConfig();
    part.loadFromFile(file);
    currentContext ||= part.currentContext;
    for (const cluster of part.clusters)
      if (!merged.clusters.has(cluster.name)) merged.clusters.set(cluster.name, cluster);
    for (const user of part.users)
      if (!merged.users.has(user.name)) merged.users.set(user.name, user);
    for (const context of part.contexts)
      if (!merged.contexts.has(context.name)) merged.contexts.set(context.name, context);
  }
  target.loadFromOptions({
    clusters: [...merged.clusters.values()],
    users: [...merged.users.values()],
    contexts: [...merged.contexts.values()],
    currentContext,
  });
}

/** Returns whether the process runs inside a Kubernetes Pod (KUBERNETES_SERVICE_HOST is set). */
export function runningInCluster(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(env.KUBERNETES_SERVICE_HOST);
}
