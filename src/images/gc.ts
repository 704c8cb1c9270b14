import type { Logger } from '../observability/logger.js';
import { errorMessage } from './errors.js';
import type { Image } from '../openstack/index.js';
import {
  imageProperty,
  isGlanceNotFound,
  partialImageStatuses,
  type GlanceImages,
} from './glance.js';

/** Default time a managed image stays in Glance after its last use: 24 hours. */
export const defaultGracePeriodMs = 24 * 60 * 60 * 1000;

/** Options of one garbage-collection pass. */
export interface GarbageCollectionOptions {
  /** Digests that some ContainerInstance uses now; their images are kept and marked as used. */
  digestsInUse: Iterable<string>;
  /** Time an unused image is kept after its last use, in milliseconds. @default 86400000 (24 h) */
  gracePeriodMs?: number;
  /** The current time; tests pass a later one instead of waiting. @default new Date() */
  now?: Date;
}

/** Result of one garbage-collection pass. */
export interface GarbageCollectionResult {
  /** Images deleted, with the name and digest they had. */
  deleted: { id: string; name: string; digest: string | undefined; status: string }[];
  /** In-use images whose last-used time was written. */
  refreshed: number;
  /** Managed images left in place. */
  kept: number;
  /** Images whose delete or refresh failed; the next pass tries again. */
  failed: number;
}

/** What {@link collectUnusedImages} needs besides the caller's options. */
export interface GarbageCollectionContext {
  glance: GlanceImages;
  logger: Logger;
  /**
   * Returns whether a publish in this process is using the image now; such
   * images are never touched. Called when the pass decides on the image, not
   * when it lists, so a reuse during the pass is seen.
   */
  isBusy: (image: Image, digest: string | undefined) => boolean;
  /** Minimum age of a last-used time before a pass rewrites it, in milliseconds. */
  lastUsedRefreshMs: number;
  onDeleted?: () => void;
}

/**
 * Deletes operator-owned Glance images that no ContainerInstance used for the
 * grace period. Only images with `novadocker.io/managed=true` owned by the
 * client's project are considered. An image is kept while its digest is in
 * use (its `novadocker.io/last-used` property is refreshed, so the time
 * survives operator restarts) or was used within the grace period. Partial
 * uploads (`queued`, `saving`, `killed`) that no publish in this process owns
 * are deleted once older than the grace period even if the digest is in use,
 * because they can never boot. Throws only if the image list fails; single
 * delete failures are logged and counted.
 */
export async function collectUnusedImages(
  context: GarbageCollectionContext,
  options: GarbageCollectionOptions,
): Promise<GarbageCollectionResult> {
  const { glance, logger } = context;
  const now = options.now ?? new Date();
  const gracePeriodMs = options.gracePeriodMs ?? defaultGracePeriodMs;
  const inUse = new Set(options.digestsInUse);
  const result: GarbageCollectionResult = { deleted: [], refreshed: 0, kept: 0, failed: 0 };

  const owner = await glance.projectID();
  const images = await glance.listImages({
    properties: { [imageProperty.managed]: 'true' },
    owner,
  });

  for (const image of images) {
    // The server-side filter is trusted only as far as it goes: check again.
    if (image.properties[imageProperty.managed] !== 'true' || image.owner !== owner) continue;

    const digest = image.properties[imageProperty.digest];
    const partial = partialImageStatuses.has(image.status);
    if (context.isBusy(image, digest)) {
      result.kept++;
      continue;
    }

    const lastUsed = lastUsedTime(image);
    if (!partial && digest !== undefined && inUse.has(digest)) {
      result.kept++;
      if (now.getTime() - lastUsed >= context.lastUsedRefreshMs) {
        await refreshLastUsed(context, image, now, result);
      }
      continue;
    }

    if (now.getTime() - lastUsed < gracePeriodMs) {
      result.kept++;
      continue;
    }
    if (image.protected === true) {
      logger.warn(
        { glanceID: image.id, name: image.name, digest },
        'unused managed image is protected; leaving it in Glance',
      );
      result.kept++;
      continue;
    }
    await deleteImage(context, image, digest, result);
  }

  logger.info(
    {
      deleted: result.deleted.length,
      refreshed: result.refreshed,
      kept: result.kept,
      failed: result.failed,
      gracePeriodMs,
    },
    'image garbage collection finished',
  );
  return result;
}

/** Returns the last-used time of an image in milliseconds: the property, else updated_at, else created_at. */
export function lastUsedTime(image: Image): number {
  for (const value of [
    image.properties[imageProperty.lastUsed],
    image.updatedAt,
    image.createdAt,
  ]) {
    if (typeof value !== 'string') continue;
    const time = Date.parse(value);
    if (!Number.isNaN(time)) return time;
  }
  // An image without any time is treated as just used, so it is never deleted early.
  return Date.now();
}

async function refreshLastUsed(
  context: GarbageCollectionContext,
  image: Image,
  now: Date,
  result: GarbageCollectionResult,
): Promise<void> {
  try {
    await context.glance.setImageProperties(image.id, {
      [imageProperty.lastUsed]: now.toISOString(),
    });
    result.refreshed++;
  } catch (err) {
    result.failed++;
    context.logger.error(
      { glanceID: image.id, err: errorMessage(err) },
      'failed to record last use of image; retrying next pass',
    );
  }
}

async function deleteImage(
  context: GarbageCollectionContext,
  image: Image,
  digest: string | undefined,
  result: GarbageCollectionResult,
): Promise<void> {
  try {
    await context.glance.deleteImage(image.id);
  } catch (err) {
    if (!isGlanceNotFound(err)) {
      result.failed++;
      context.logger.error(
        { glanceID: image.id, err: errorMessage(err) },
        'failed to delete unused image; retrying next pass',
      );
      return;
    }
  }
  result.deleted.push({ id: image.id, name: image.name, digest, status: image.status });
  context.onDeleted?.();
  context.logger.info(
    {
      glanceID: image.id,
      name: image.name,
      digest,
      status: image.status,
      lastUsed: image.properties[imageProperty.lastUsed],
    },
    'deleted unused managed image',
  );
}
