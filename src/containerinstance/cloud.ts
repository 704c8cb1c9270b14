/**
 * Cloud resolution: which clouds.yaml Secret an instance uses (its
 * spec.cloud, or the operator default), the cloud configuration parsed from
 * it, and the shared OpenStack session for that configuration.
 */
import type { V1Secret } from '@kubernetes/client-node';

import type { ContainerInstance } from '../api/index.js';
import {
  cloudConfigFromString,
  CloudConfigError,
  type CloudConfig,
  type OpenStackClient,
  type OpenStackClientCache,
} from '../openstack/index.js';
import { stalled, transient } from './failures.js';

/** Key of the Secret holding clouds.yaml. */
export const CLOUDS_YAML_KEY = 'clouds.yaml';
/** Optional key of the Secret holding the PEM CA bundle. */
export const CACERT_KEY = 'cacert';

/** Read access to a Secret cache; an informer over Secrets fits. */
export interface SecretCache {
  get(name: string, namespace?: string): V1Secret | undefined;
  hasSynced(): boolean;
}

/** A Secret by namespace and name. */
export interface SecretName {
  namespace: string;
  name: string;
}

/** The cloud an instance runs in, with the session to reach it. */
export interface ResolvedCloud {
  client: OpenStackClient;
  config: CloudConfig;
  /**
   * Identity of the cloud and project, `<auth URL>|<region>|<project ID>`:
   * instances with equal scopes share one server listing, even when their
   * credentials come from different Secrets.
   */
  scope: string;
  /** The Secret the configuration came from, `namespace/name`, for messages. */
  secret: string;
}

/** Settings of a {@link CloudResolver}. */
export interface CloudResolverOptions {
  /** Secrets in the namespaces of the instances. */
  secrets: SecretCache;
  /** The cloud of instances without spec.cloud; undefined leaves them Stalled. */
  defaultSecret?: SecretName;
  /** Cache holding the default Secret; the same as `secrets` when its namespace is watched. */
  defaultSecrets?: SecretCache;
  /** Cloud to pick from the default Secret's clouds.yaml; may be left out when it contains one cloud. */
  defaultCloudName?: string;
  clients: OpenStackClientCache;
}

interface ParsedSecret {
  resourceVersion: string | undefined;
  cloudName: string | undefined;
  config: CloudConfig;
}

/**
 * Resolves the cloud of an instance from the Secret caches, parsing each
 * Secret version once. Rejects with a stalled failure naming the Secret when
 * it is missing or invalid, and with a transient one while the Secret cache
 * has not synced.
 */
export class CloudResolver {
  readonly #options: CloudResolverOptions;
  readonly #parsed = new Map<string, ParsedSecret>();

  constructor(options: CloudResolverOptions) {
    this.#options = options;
  }

  /** Returns the Secret an instance takes its cloud from, or undefined when it has none. */
  secretOf(instance: ContainerInstance): SecretName | undefined {
    const reference = instance.spec.cloud;
    if (reference !== undefined) {
      return { namespace: instance.metadata.namespace ?? '', name: reference.secretName };
    }
    return this.#options.defaultSecret;
  }

  /** Resolves the instance's cloud and opens (or reuses) its session, authenticating on first use. */
  async resolve(instance: ContainerInstance): Promise<ResolvedCloud> {
    const config = this.config(instance);
    const client = this.#options.clients.get(config);
    const projectId = await client.session.projectId();
    const authUrl = config.auth.authUrl.replace(/\/+$/, '');
    return {
      client,
      config,
      scope: `${authUrl}|${config.regionName ?? ''}|${projectId}`,
      secret: secretLabel(this.secretOf(instance)!),
    };
  }

  /** Returns the cloud configuration of an instance without contacting the cloud. */
  config(instance: ContainerInstance): CloudConfig {
    const reference = instance.spec.cloud;
    const secretName = this.secretOf(instance);
    if (secretName === undefined) {
      throw stalled(
        'NoCloudConfigured',
        'spec.cloud is not set and the operator runs without --default-cloud-secret; set spec.cloud to a Secret with a clouds.yaml key, or start the operator with --default-cloud-secret',
      );
    }

    const isDefault = reference === undefined;
    const cache = isDefault
      ? (this.#options.defaultSecrets ?? this.#options.secrets)
      : this.#options.secrets;
    const what = isDefault
      ? `the default cloud Secret ${secretLabel(secretName)} (--default-cloud-secret)`
      : `Secret ${secretLabel(secretName)} named by spec.cloud.secretName`;
    if (!cache.hasSynced()) {
      throw transient(
        'SecretsNotSynced',
        `the Secret cache has not synced yet, so ${what} cannot be read; retrying`,
      );
    }
    const secret = cache.get(secretName.name, secretName.namespace);
    if (secret === undefined) {
      throw stalled('SecretNotFound', `${what} not found; create it with a ${CLOUDS_YAML_KEY} key`);
    }

    const cloudName = isDefault ? this.#options.defaultCloudName : reference.cloudName;
    return this.#parse(secret, secretName, cloudName, what);
  }

  #parse(
    secret: V1Secret,
    secretName: SecretName,
    cloudName: string | undefined,
    what: string,
  ): CloudConfig {
    const key = `${secretLabel(secretName)}\u0000${cloudName ?? ''}`;
    const resourceVersion = secret.metadata?.resourceVersion;
    const cached = this.#parsed.get(key);
    if (
      cached !== undefined &&
      cached.resourceVersion === resourceVersion &&
      resourceVersion !== undefined
    ) {
      return cached.config;
    }

    const cloudsYaml = decodeKey(secret, CLOUDS_YAML_KEY);
    if (cloudsYaml === undefined) {
      const keys = Object.keys(secret.data ?? {}).sort();
      throw stalled(
        'InvalidCloudConfig',
        `${what} has no ${CLOUDS_YAML_KEY} key (keys: ${keys.length > 0 ? keys.join(', ') : 'none'}); add one with the clouds.yaml text`,
      );
    }
    const caCert = decodeKey(secret, CACERT_KEY);
    let config: CloudConfig;
    try {
      config = cloudConfigFromString(cloudsYaml, {
        source: `Secret ${secretLabel(secretName)} key ${CLOUDS_YAML_KEY}`,
        ...(cloudName === undefined ? {} : { cloud: cloudName }),
        ...(caCert === undefined ? {} : { caCert }),
      });
    } catch (err) {
      if (err instanceof CloudConfigError) {
        throw stalled('InvalidCloudConfig', `${err.message}; fix the clouds.yaml in ${what}`, err);
      }
      throw err;
    }
    this.#parsed.set(key, { resourceVersion, cloudName, config });
    return config;
  }
}

/** Returns `namespace/name`. */
export function secretLabel(secret: SecretName): string {
  return `${secret.namespace}/${secret.name}`;
}

/** Returns the UTF-8 text of one key of a Secret's data, or undefined when the key is absent. */
export function decodeKey(secret: V1Secret, key: string): string | undefined {
  const value = secret.data?.[key];
  if (value === undefined) return undefined;
  return Buffer.from(value, 'base64').toString('utf8');
}
