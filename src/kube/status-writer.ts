import { CustomObjectsApi, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';

import type { Logger } from '../observability/logger.js';
import { describeApiError } from './errors.js';
import { createMergePatch, mergePatchOptions } from './merge-patch.js';
import type { CustomResourceType } from './resource.js';

/** An object of a custom resource with a status subresource. */
export type ObjectWithStatus = KubernetesObject & { status?: unknown };

/** Result of StatusWriter.write. */
export interface StatusWriteResult<T> {
  /** False when the status was already equal and no request was sent. */
  written: boolean;
  /** The object as the API server returned it, or the input object when nothing was written. */
  object: T;
}

/** Settings of a StatusWriter. */
export interface StatusWriterOptions {
  /** fieldManager recorded in managedFields. @default "nova-docker-operator" */
  fieldManager?: string;
  /**
   * Sends the object's resourceVersion with the patch, so the write fails
   * with 409 Conflict when the object changed since it was read.
   * @default false
   */
  optimisticLock?: boolean;
  logger?: Logger;
}

/**
 * Writes the status subresource of one custom resource type with JSON merge
 * patches computed against the status the caller last read. A status that is
 * already equal is not written, so a steady-state reconcile sends nothing.
 */
export class StatusWriter {
  private readonly api: CustomObjectsApi;
  private readonly fieldManager: string;

  constructor(
    kubeConfig: KubeConfig,
    private readonly type: CustomResourceType,
    private readonly options: StatusWriterOptions = {},
  ) {
    this.api = kubeConfig.makeApiClient(CustomObjectsApi);
    this.fieldManager = options.fieldManager ?? 'nova-docker-operator';
  }

  /**
   * Replaces the object's status with `status` (members missing from it are
   * removed) unless it already equals object.status. Throws the API error,
   * wrapped with the object's name, when the patch fails; with
   * optimisticLock a stale object fails with HTTP 409.
   */
  async write<T extends ObjectWithStatus>(
    object: T,
    status: unknown,
  ): Promise<StatusWriteResult<T>> {
    const name = object.metadata?.name;
    const namespace = object.metadata?.namespace;
    if (!name || !namespace) {
      throw new Error(
        `cannot write status of ${this.type.kind} without metadata.name and metadata.namespace`,
      );
    }

    const statusPatch = createMergePatch(object.status ?? {}, status ?? {});
    if (statusPatch === undefined) return { written: false, object };

    const body: Record<string, unknown> = { status: statusPatch };
    if (this.options.optimisticLock)
      body.metadata = { resourceVersion: object.metadata?.resourceVersion };

    try {
      const updated = (await this.api.patchNamespacedCustomObjectStatus(
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
      this.options.logger?.debug(
        { namespace, name, resourceVersion: updated.metadata?.resourceVersion },
        'status written',
      );
      return { written: true, object: updated };
    } catch (err) {
      throw new Error(
        `failed to write status of ${this.type.kind} ${namespace}/${name}: ${describeApiError(err)}`,
        { cause: err },
      );
    }
  }
}
