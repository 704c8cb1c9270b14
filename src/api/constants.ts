/** API group of the ContainerInstance resource. */
export const GROUP = 'novadocker.io';

/** API version served and stored by the CustomResourceDefinition. */
export const VERSION = 'v1alpha1';

/** The `apiVersion` field value of every ContainerInstance object. */
export const API_VERSION = `${GROUP}/${VERSION}`;

/** Kind of the resource. */
export const KIND = 'ContainerInstance';

/** Kind of the list returned by collection GETs. */
export const LIST_KIND = 'ContainerInstanceList';

/** Plural resource name used in API paths and RBAC rules. */
export const PLURAL = 'containerinstances';

/** Singular resource name accepted by kubectl. */
export const SINGULAR = 'containerinstance';

/** Short names accepted by kubectl, e.g. `kubectl get cinst`. */
export const SHORT_NAMES = ['cinst'] as const;

/** kubectl categories the resource belongs to, e.g. `kubectl get novadocker`. */
export const CATEGORIES = ['novadocker'] as const;

/** Name of the CustomResourceDefinition object (`<plural>.<group>`). */
export const CRD_NAME = `${PLURAL}.${GROUP}`;

/**
 * Finalizer the operator adds before it creates any cloud resource, and removes
 * once the server is gone (or at once with `deletionPolicy: Orphan`).
 */
export const FINALIZER = 'novadocker.io/finalizer';

/**
 * Nova server tag carried by every server the operator manages. Tags and not
 * metadata, because Nova-Docker exposes server metadata to the container as
 * environment variables.
 */
export const MANAGED_TAG = 'novadocker.io-managed';

/** Prefix of the per-instance ownership tag; the full tag is `cinst-<metadata.uid>`. */
export const INSTANCE_TAG_PREFIX = 'cinst-';

/**
 * Returns the Nova server tag that marks a server as owned by the
 * ContainerInstance with this UID. Throws when the UID is empty, because an
 * empty suffix would match the tags of every instance.
 */
export function instanceTag(uid: string): string {
  if (uid.length === 0) {
    throw new Error(
      'cannot derive the instance tag from an empty metadata.uid; read the object from the apiserver first',
    );
  }
  return `${INSTANCE_TAG_PREFIX}${uid}`;
}
