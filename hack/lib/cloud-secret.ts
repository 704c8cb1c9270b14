/**
 * Builds the Kubernetes Secret the operator reads its OpenStack credentials
 * from, out of one cloud of a local clouds.yaml. `make run` and `make demo`
 * use it through hack/cloud-secret.ts.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';

import { CloudConfigError, cloudConfigFromString } from '../../src/openstack/index.js';

/** Options for buildCloudSecret. */
export interface CloudSecretOptions {
  /** Path of the clouds.yaml file; relative `cacert` paths in it are read from its folder. */
  cloudsYamlPath: string;
  /** Cloud to take; may be left out when the file defines exactly one. */
  cloud?: string;
  namespace: string;
  name: string;
}

/** A v1 Secret manifest, ready for `kubectl apply -f -`. */
export interface SecretManifest {
  apiVersion: 'v1';
  kind: 'Secret';
  metadata: { name: string; namespace: string };
  type: 'Opaque';
  stringData: Record<string, string>;
}

/**
 * Returns a Secret whose `clouds.yaml` key holds only the chosen cloud, so the
 * operator needs no cloud name, plus a `cacert` key with the PEM file the
 * entry's `cacert` names. Checks the entry the way the operator will and
 * throws CloudConfigError naming the file, cloud and key (never a value).
 */
export function buildCloudSecret(options: CloudSecretOptions): SecretManifest {
  const source = options.cloudsYamlPath;
  let text: string;
  try {
    text = readFileSync(source, 'utf8');
  } catch (err) {
    throw new CloudConfigError(
      source,
      options.cloud,
      undefined,
      `cannot read the file: ${(err as NodeJS.ErrnoException).code ?? String(err)}; pass the path of your clouds.yaml`,
    );
  }

  // Resolving first gives the operator's own error for a wrong name or a broken entry.
  const config = cloudConfigFromString(text, {
    source,
    ...(options.cloud === undefined ? {} : { cloud: options.cloud }),
    ...caCertOption(text, options.cloud, source),
  });
  const clouds = (parseYaml(text) as { clouds: Record<string, unknown> }).clouds;
  const single = stringifyYaml({ clouds: { [config.cloudName]: clouds[config.cloudName] } });

  const stringData: Record<string, string> = { 'clouds.yaml': single };
  if (config.caCert !== undefined) stringData.cacert = config.caCert;
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: options.name, namespace: options.namespace },
    type: 'Opaque',
    stringData,
  };
}

/**
 * Reads the PEM file of the entry's `cacert` path, relative to the clouds.yaml
 * folder, because in the cluster the path means nothing and the Secret's
 * `cacert` key replaces it.
 */
function caCertOption(
  text: string,
  cloud: string | undefined,
  source: string,
): { caCert?: string } {
  let clouds: Record<string, { cacert?: unknown }> | undefined;
  try {
    clouds = (parseYaml(text) as { clouds?: typeof clouds } | null)?.clouds;
  } catch {
    // cloudConfigFromString reports the YAML error with its position.
    return {};
  }
  const names = Object.keys(clouds ?? {});
  const name = cloud ?? (names.length === 1 ? names[0] : undefined);
  const path = name === undefined ? undefined : clouds?.[name]?.cacert;
  if (typeof path !== 'string') return {};
  try {
    return { caCert: readFileSync(resolve(dirname(source), path), 'utf8') };
  } catch (err) {
    throw new CloudConfigError(
      source,
      name,
      'cacert',
      `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
    );
  }
}
