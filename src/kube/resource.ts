import type { KubernetesObject } from '@kubernetes/client-node';

/** Identifies a namespaced custom resource type served at /apis/{group}/{version}/.../{plural}. */
export interface CustomResourceType {
  group: string;
  version: string;
  plural: string;
  kind: string;
}

/** Returns `group/version`, the apiVersion of objects of this type. */
export function apiVersionOf(type: CustomResourceType): string {
  return `${type.group}/${type.version}`;
}

/**
 * Returns the work queue key of an object: `namespace/name`, or `name` for a
 * cluster-scoped object. Throws when the object has no name.
 */
export function objectKey(object: KubernetesObject): string {
  const name = object.metadata?.name;
  if (!name)
    throw new Error(
      `object of kind ${object.kind ?? '(unknown)'} has no metadata.name; cannot build its key`,
    );
  const namespace = object.metadata?.namespace;
  return namespace ? `${namespace}/${name}` : name;
}

/** Splits a key made by objectKey into its namespace ('' when cluster-scoped) and name. */
export function splitObjectKey(key: string): { namespace: string; name: string } {
  const slash = key.indexOf('/');
  if (slash < 0) return { namespace: '', name: key };
  return { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

/** Parses `namespace/name`, as given to flags such as --default-cloud-secret; throws on anything else. */
export function parseNamespacedName(
  value: string,
  what: string,
): { namespace: string; name: string } {
  const parts = value.split('/');
  if (parts.length !== 2 || !parts[0] || !parts[1]) {
    throw new Error(
      `invalid ${what} "${value}": expected namespace/name, e.g. operators/openstack-credentials`,
    );
  }
  return { namespace: parts[0], name: parts[1] };
}
