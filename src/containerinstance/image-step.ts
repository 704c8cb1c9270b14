/**
 * The image step of a reconcile: start or follow the publish of the spec's
 * image and command into the instance's Glance, and report it in the
 * ImagePublished condition.
 */
import type { V1Secret } from '@kubernetes/client-node';

import { ConditionType } from '../api/index.js';
import type { ResolvedCloud, SecretCache } from './cloud.js';
import { classifyError, stalled, transient } from './failures.js';
import type { ImageState, ImageTracker, PublishedImage, PublishProgress } from './image-tracker.js';
import type { ReconcileRun } from './reconcile-run.js';

/** Input of one image publish. */
export interface ImagePublishRequest {
  /** Image reference as written in the spec. */
  reference: string;
  /** Container command; stored as the Glance property os_command_line. */
  command?: readonly string[];
  /** `kubernetes.io/dockerconfigjson` Secrets, in spec order. */
  pullSecrets: readonly V1Secret[];
}

/**
 * Publishes an image into the Glance of a cloud and resolves with it;
 * rejects with the publisher's typed error. Implemented over the image
 * publisher by the wiring.
 */
export type PublishImage = (
  cloud: ResolvedCloud,
  request: ImagePublishRequest,
  onProgress: (progress: PublishProgress) => void,
) => Promise<PublishedImage>;

/**
 * Returns the image state of the instance and sets ImagePublished to match.
 * Throws a classified failure (ImagePublished=False with its reason) when
 * the publish failed or a pull Secret is missing.
 */
export function ensureImage(
  run: ReconcileRun,
  tracker: ImageTracker,
  publish: PublishImage,
  cloud: ResolvedCloud,
  secrets: SecretCache,
): ImageState {
  const { spec } = run.object;
  try {
    const pullSecrets = readPullSecrets(run, secrets);
    // Instances with equal keys share one publish, so the key names everything
    // the publish reads: pull Secrets by namespace, name and version.
    const key = JSON.stringify([
      cloud.scope,
      spec.image,
      spec.command ?? null,
      pullSecrets.map(
        ({ metadata }) => `${metadata?.namespace}/${metadata?.name}@${metadata?.resourceVersion}`,
      ),
    ]);
    const request: ImagePublishRequest = {
      reference: spec.image,
      ...(spec.command === undefined ? {} : { command: spec.command }),
      pullSecrets,
    };
    const state = tracker.ensure(run.uid, key, (onProgress) => publish(cloud, request, onProgress));

    if (state.state === 'ready') {
      run.condition(
        ConditionType.ImagePublished,
        'True',
        'Published',
        `${spec.image} is Glance image ${state.image.glanceID} (${state.image.digest})`,
      );
    } else {
      run.condition(
        ConditionType.ImagePublished,
        'False',
        'Publishing',
        describeProgress(spec.image, state.progress),
      );
    }
    return state;
  } catch (err) {
    const failure = classifyError(err, `publish image ${spec.image}`);
    run.condition(ConditionType.ImagePublished, 'False', failure.reason, failure.message);
    throw failure;
  }
}

/** Returns the progress of a publish as a condition message, in whole megabytes so it changes rarely. */
export function describeProgress(reference: string, progress: PublishProgress | undefined): string {
  const mb = (bytes: number) => `${Math.floor(bytes / 1_000_000)} MB`;
  if (progress === undefined) return `resolving ${reference} and looking for it in Glance`;
  switch (progress.phase) {
    case 'checking':
      return `resolving ${reference} and looking for it in Glance`;
    case 'queued':
      return `${reference} waits for other image uploads to finish`;
    case 'pulling':
      return progress.imageSizeBytes
        ? `pulling ${reference}: ${mb(progress.bytesDownloaded)} of ${mb(progress.imageSizeBytes)}`
        : `pulling ${reference}: ${mb(progress.bytesDownloaded)}`;
    case 'uploading':
      return progress.imageSizeBytes
        ? `uploading ${reference} to Glance: ${mb(progress.bytesUploaded)} of about ${mb(progress.imageSizeBytes)}`
        : `uploading ${reference} to Glance: ${mb(progress.bytesUploaded)}`;
    default:
      return `publishing ${reference}: ${progress.phase}`;
  }
}

/** Returns the imagePullSecrets from the cache; throws a stalled failure naming a missing one. */
function readPullSecrets(run: ReconcileRun, secrets: SecretCache): V1Secret[] {
  const names = run.object.spec.imagePullSecrets ?? [];
  if (names.length === 0) return [];
  if (!secrets.hasSynced()) {
    throw transient(
      'SecretsNotSynced',
      'the Secret cache has not synced yet, so the image pull Secrets cannot be read; retrying',
    );
  }
  const namespace = run.object.metadata.namespace ?? '';
  return names.map(({ name }) => {
    const secret = secrets.get(name, namespace);
    if (secret === undefined) {
      throw stalled(
        'SecretNotFound',
        `image pull Secret ${namespace}/${name} named in spec.imagePullSecrets not found; create it (type kubernetes.io/dockerconfigjson) or remove it from the spec`,
      );
    }
    return secret;
  });
}
