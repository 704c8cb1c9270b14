/**
 * Binds the ContainerInstance reconciler to `nova-docker-operator run`: it
 * builds the cloud resolver, server observer, placement resolver and image
 * tracker from the run flags and maps Secret changes to instances.
 */
import type { KubernetesObject, V1Secret } from '@kubernetes/client-node';

import { FINALIZER, GROUP, KIND, PLURAL, VERSION, type ContainerInstance } from '../api/index.js';
import type { OperatorWiring, ReconcilerContext, ReconcilerSetup } from '../cmd/run.js';
import { FinalizerClient } from '../kube/finalizers.js';
import type { Informer } from '../kube/informer.js';
import { secretInformer } from '../kube/informers.js';
import { objectKey, type CustomResourceType } from '../kube/resource.js';
import { openStackRequestObserver } from '../observability/openstack-metrics.js';
import { OpenStackClientCache } from '../openstack/index.js';
import { CloudResolver } from './cloud.js';
import { envSecretNames } from './env.js';
import type { PublishImage } from './image-step.js';
import { imagePublishing, type ImagePublishing } from './image-publishing.js';
import { ImageTracker } from './image-tracker.js';
import { PlacementResolver } from './placement.js';
import { ContainerInstanceReconciler } from './reconciler.js';
import { ServerObserver } from './server-observer.js';

/** The ContainerInstance custom resource type. */
export const containerInstanceType: CustomResourceType = {
  group: GROUP,
  version: VERSION,
  plural: PLURAL,
  kind: KIND,
};

/**
 * Test-only fault point: when this environment variable is `1`, the
 * operator process kills itself with SIGKILL right after a server create
 * returns and before the server ID is written to status, so tests can check
 * that a restarted operator adopts the server instead of creating another.
 */
export const EXIT_AFTER_CREATE_ENV = 'NOVA_DOCKER_OPERATOR_TEST_EXIT_AFTER_CREATE';

/**
 * A ContainerInstance as the client-node helpers type objects. The informer
 * holds plain JSON, so timestamps are strings as in {@link ContainerInstance};
 * the two types differ only in how client-node declares them.
 */
export type CachedContainerInstance = KubernetesObject & {
  spec: ContainerInstance['spec'];
  status?: ContainerInstance['status'];
};

/** Options of {@link containerInstanceWiring}. */
export interface WiringOptions {
  /** Publishes images into a cloud's Glance. @default the image publisher over the Docker Engine of DOCKER_HOST */
  publish?: (context: ReconcilerContext<CachedContainerInstance>) => PublishImage;
  /** @default process.env */
  env?: NodeJS.ProcessEnv;
}

/** Returns the `run` wiring of the ContainerInstance controller. */
export function containerInstanceWiring(
  options: WiringOptions = {},
): OperatorWiring<CachedContainerInstance> {
  return {
    resource: containerInstanceType,
    controllerName: 'containerinstance',
    watchSecrets: true,
    setup: (context) => setupReconciler(context, options),
  };
}

function setupReconciler(
  context: ReconcilerContext<CachedContainerInstance>,
  options: WiringOptions,
): ReconcilerSetup<CachedContainerInstance> {
  const { config, logger, kubeConfig } = context;
  const env = options.env ?? process.env;
  const secrets = context.secrets;
  if (secrets === undefined)
    throw new Error('the ContainerInstance wiring needs the Secret informer (watchSecrets)');

  // The default Secret usually lives in the operator's namespace; when the
  // operator watches another namespace, a separate informer reads that one Secret.
  const defaultSecret = config.defaultCloudSecret;
  let defaultSecrets: Informer<V1Secret> | undefined;
  if (
    defaultSecret !== undefined &&
    config.namespace !== undefined &&
    config.namespace !== defaultSecret.namespace
  ) {
    defaultSecrets = secretInformer(kubeConfig, {
      name: 'default-cloud-secret',
      namespace: defaultSecret.namespace,
      fieldSelector: `metadata.name=${defaultSecret.name}`,
      logger,
      metrics: context.metrics,
    });
  }

  const clients = new OpenStackClientCache({
    logger,
    observer: openStackRequestObserver(context.metrics, logger),
  });
  // The observer and the tracker exist before the reconciler that maps their UIDs to keys.
  const keysOf = (uids: string[]): string[] => reconciler.keysOf(uids);
  const observer = new ServerObserver({
    activeIntervalMs: config.pollIntervalActiveMs,
    idleIntervalMs: config.pollIntervalIdleMs,
    mode: config.serverObserver,
    logger,
    onChange: (uids) => {
      for (const key of keysOf(uids)) context.enqueue(key);
    },
  });
  const images = new ImageTracker({
    logger,
    onSettled: (uid) => {
      for (const key of keysOf([uid])) context.enqueue(key);
    },
  });

  const publishing = imagePublishing({
    logger,
    metrics: context.metrics,
    maxConcurrentUploads: config.maxConcurrentUploads,
    gcGracePeriodMs: config.imageGcGracePeriodMs,
  });
  const stopImageGc =
    config.imageGcIntervalMs === undefined
      ? () => {}
      : scheduleImageGc(publishing, context, config.imageGcIntervalMs);

  const finalizers = new FinalizerClient(kubeConfig, containerInstanceType, FINALIZER);
  const reconciler = new ContainerInstanceReconciler({
    logger,
    statusWriter: {
      write: async (object, status) => {
        const result = await context.statusWriter.write(asCached(object), status);
        return { written: result.written, object: asInstance(result.object) };
      },
    },
    events: {
      record: (object, type, reason, action, note) =>
        context.events.record(asCached(object), type, reason, action, note),
    },
    finalizers: {
      add: async (object) => asInstance(await finalizers.add(asCached(object))),
      remove: async (object) => asInstance(await finalizers.remove(asCached(object))),
    },
    secrets,
    clouds: new CloudResolver({
      secrets,
      ...(defaultSecret === undefined ? {} : { defaultSecret }),
      ...(defaultSecrets === undefined ? {} : { defaultSecrets }),
      ...(config.defaultCloudName === undefined
        ? {}
        : { defaultCloudName: config.defaultCloudName }),
      clients,
    }),
    placement: new PlacementResolver(
      config.defaultNetwork === undefined ? {} : { defaultNetwork: config.defaultNetwork },
    ),
    observer,
    images,
    publish: options.publish?.(context) ?? publishing.publish,
    activeIntervalMs: config.pollIntervalActiveMs,
    erroredServers: {
      recreate: config.recreateErroredServers,
      graceMs: config.erroredServerGraceMs,
    },
    ...(env[EXIT_AFTER_CREATE_ENV] === '1' ? { afterServerCreate: exitAfterCreate(context) } : {}),
  });

  const keysForSecret = (secret: V1Secret): string[] =>
    instancesUsingSecret(context.informer.list().map(asInstance), secret, defaultSecret);
  defaultSecrets?.on((event) => {
    for (const key of keysForSecret(event.object)) context.enqueue(key);
  });

  const instances = reconciler;
  return {
    reconciler: (key, object) =>
      instances.reconcile(key, object === undefined ? undefined : asInstance(object)),
    secretKeys: keysForSecret,
    ...(defaultSecrets === undefined
      ? {}
      : { informers: [defaultSecrets as unknown as Informer<KubernetesObject>] }),
    stop: async () => {
      stopImageGc();
      observer.stop();
      await clients.close();
    },
  };
}

/**
 * Runs image garbage collection every intervalMs, keeping the images whose
 * digests any watched ContainerInstance records in status.image.digest.
 * Passes never overlap. Returns a function that stops the timer.
 */
function scheduleImageGc(
  publishing: ImagePublishing,
  context: ReconcilerContext<CachedContainerInstance>,
  intervalMs: number,
): () => void {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    const digestsInUse = new Set<string>();
    for (const instance of context.informer.list()) {
      const digest = instance.status?.image?.digest;
      if (digest !== undefined) digestsInUse.add(digest);
    }
    void publishing.collectGarbage(digestsInUse).finally(() => {
      running = false;
    });
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

/**
 * Returns the keys of the instances that read this Secret: as their cloud,
 * through env, as an image pull Secret, or as the default cloud when they
 * have no spec.cloud.
 */
export function instancesUsingSecret(
  instances: readonly ContainerInstance[],
  secret: V1Secret,
  defaultSecret: { namespace: string; name: string } | undefined,
): string[] {
  const namespace = secret.metadata?.namespace;
  const name = secret.metadata?.name;
  if (namespace === undefined || name === undefined) return [];
  const isDefault = defaultSecret?.namespace === namespace && defaultSecret.name === name;

  return instances
    .filter((instance) => {
      const { spec } = instance;
      if (isDefault && spec.cloud === undefined) return true;
      if (instance.metadata.namespace !== namespace) return false;
      return (
        spec.cloud?.secretName === name ||
        envSecretNames(instance).includes(name) ||
        (spec.imagePullSecrets ?? []).some((reference) => reference.name === name)
      );
    })
    .map((instance) => objectKey(asCached(instance)));
}

function asInstance(object: CachedContainerInstance): ContainerInstance {
  return object as unknown as ContainerInstance;
}

function asCached(object: ContainerInstance): CachedContainerInstance {
  return object as unknown as CachedContainerInstance;
}

function exitAfterCreate(context: ReconcilerContext<CachedContainerInstance>) {
  return (serverID: string): void => {
    context.logger.fatal(
      { serverID, env: EXIT_AFTER_CREATE_ENV },
      'test fault point: killing the operator right after the server create, before the status write',
    );
    process.kill(process.pid, 'SIGKILL');
  };
}
