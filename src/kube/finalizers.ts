import { CustomObjectsApi, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';

import { describeApiError } from './errors.js';
import { mergePatchOptions } from './merge-patch.js';
import type { CustomResourceType } from './resource.js';

/** Returns whether the object lists this finalizer. */
export function hasFinalizer(object: KubernetesObject, finalizer: string): boolean {
  return object.metadata?.finalizers?.includes(finalizer) ?? false;
}

/**
 * Adds and removes one finalizer on objects of one custom resource type.
 * Each write is a JSON merge patch of metadata.finalizers that carries the
 * object's resourceVersion. A merge patch replaces the whole list, so
 * without the resourceVersion it could drop a finalizer another client just
 * added; with it, the API server rejects a stale write with 409 Conflict.
 */
export class FinalizerClient {
  private readonly api: CustomObjectsApi;

  constructor(
    kubeConfig: KubeConfig,
    private readonly type: CustomResourceType,
    readonly finalizer: string,
    private readonly fieldManager = 'nova-docker-operator',
  ) {
    this.api = kubeConfig.makeApiClient(CustomObjectsApi);
  }

  /**
   * Adds the finalizer unless present and returns the object as stored; no
   * request is sent when it is present. Throws (409 inside the cause) when
   * the object changed since it was read: requeue and read it again.
   */
  async add<T extends KubernetesObject>(object: T): Promise<T> {
    if (hasFinalizer(object, this.finalizer)) return object;
    return this.writeFinalizers(
      object,
      [...(object.metadata?.finalizers ?? []), this.finalizer],
      'add',
    );
  }

  /**
   * Removes the finalizer if present and returns the object as stored; once
   * no finalizer is left on a deleted object, the API server removes it.
   * Throws like add().
   */
  async remove<T extends KubernetesObject>(object: T): Promise<T> {
    if (!hasFinalizer(object, this.finalizer)) return object;
    const remaining = (object.metadata?.finalizers ?? []).filter(
      (finalizer) => finalizer !== this.finalizer,
    );
    return this.writeFinalizers(object, remaining, 'remove');
  }

  private async writeFinalizers<T extends KubernetesObject>(
    object: T,
    finalizers: string[],
    verb: 'add' | 'remove',
  ): Promise<T> {
    const name = object.metadata?.name;
    const namespace = object.metadata?.namespace;
    const resourceVersion = object.metadata?.resourceVersion;
    if (!name || !namespace || !resourceVersion) {
      throw new Error(
        `cannot ${verb} finalizer on ${this.type.kind} without metadata.name, namespace and resourceVersion`,
      );
    }
    const body = { metadata: { resourceVersion, finalizers } };
    try {
      return (await this.api.patchNamespacedCustomObject(
        {
          group: this.type.group,
          version: this.type.version,
          plural: this.type.plural,
          namespace,
          name,
          body,
          fieldManager: this.fieldManager,
        },
        mergePatchOptions,
      )) as T;
    } catch (err) {
      throw new Error(
        `failed to ${verb} finalizer ${this.finalizer} on ${this.type.kind} ${namespace}/${name}: ${describeApiError(err)}`,
        {
          cause: err,
        },
      );
    }
  }
}
