/**
 * The environment of the container as Nova server metadata: literal values
 * and values read from Secrets in the instance's namespace.
 */
import type { ContainerInstance } from '../api/index.js';
import { ENV_MAX_LENGTH } from '../api/spec-schema.js';
import { decodeKey, type SecretCache } from './cloud.js';
import { stalled, transient } from './failures.js';

/**
 * Returns the server metadata for the instance's env, one item per
 * variable. Throws a stalled failure naming the variable, Secret and key
 * when a referenced Secret or key is missing, or when a value is too long
 * for Nova. The message never quotes a value.
 */
export function resolveEnv(
  instance: ContainerInstance,
  secrets: SecretCache,
): Record<string, string> {
  const namespace = instance.metadata.namespace ?? '';
  const metadata: Record<string, string> = {};

  for (const variable of instance.spec.env ?? []) {
    let value: string;
    if (variable.valueFrom !== undefined) {
      const { name, key } = variable.valueFrom.secretKeyRef;
      if (!secrets.hasSynced()) {
        throw transient(
          'SecretsNotSynced',
          `the Secret cache has not synced yet, so env ${variable.name} cannot be read; retrying`,
        );
      }
      const secret = secrets.get(name, namespace);
      if (secret === undefined) {
        throw stalled(
          'SecretNotFound',
          `env ${variable.name}: Secret ${namespace}/${name} not found; create it or change spec.env`,
        );
      }
      const decoded = decodeKey(secret, key);
      if (decoded === undefined) {
        const keys = Object.keys(secret.data ?? {}).sort();
        throw stalled(
          'SecretKeyNotFound',
          `env ${variable.name}: Secret ${namespace}/${name} has no key "${key}" (keys: ${keys.length > 0 ? keys.join(', ') : 'none'}); add the key or change spec.env`,
        );
      }
      value = decoded;
    } else {
      value = variable.value ?? '';
    }

    if (value.length > ENV_MAX_LENGTH) {
      const source =
        variable.valueFrom === undefined
          ? 'its value'
          : `the value of Secret ${namespace}/${variable.valueFrom.secretKeyRef.name} key ${variable.valueFrom.secretKeyRef.key}`;
      throw stalled(
        'EnvValueTooLong',
        `env ${variable.name}: ${source} has ${value.length} characters, more than the ${ENV_MAX_LENGTH} Nova allows in server metadata; shorten it`,
      );
    }
    metadata[variable.name] = value;
  }
  return metadata;
}

/** Returns the names of the Secrets an instance's env reads. */
export function envSecretNames(instance: ContainerInstance): string[] {
  const names = new Set<string>();
  for (const variable of instance.spec.env ?? []) {
    if (variable.valueFrom !== undefined) names.add(variable.valueFrom.secretKeyRef.name);
  }
  return [...names];
}
