import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import { ApiError } from '../http/errors.js';
import { sendEmpty } from '../http/io.js';
import type { RequestContext } from '../http/router.js';
import type { ImageRecord } from '../model.js';
import type { StateStore } from '../state.js';
import { glanceTime } from './attributes.js';

/** Streams the request body into the image store, hashing it on the way (MD5 checksum and SHA-512 os_hash_value). */
export async function uploadImageData(
  ctx: RequestContext,
  store: StateStore,
  image: ImageRecord,
): Promise<void> {
  if (image.status !== 'queued') {
    throw new ApiError(
      409,
      `Image status transition from ${image.status} to saving is not allowed`,
    );
  }
  if (!image.containerFormat || !image.diskFormat) {
    throw new ApiError(
      400,
      'Properties disk_format, container_format must be set prior to saving data.',
    );
  }
  image.status = 'saving';
  image.updatedAt = glanceTime();
  store.markDirty();

  const target = store.imagePath(image.id);
  const temporary = `${target}.upload`;
  const md5 = createHash('md5');
  const sha512 = createHash('sha512');
  let size = 0;
  const hasher = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      md5.update(chunk);
      sha512.update(chunk);
      size += chunk.length;
      callback(null, chunk);
    },
  });
  try {
    await pipeline(ctx.req, hasher, createWriteStream(temporary, { mode: 0o600 }));
  } catch (err) {
    await rm(temporary, { force: true });
    image.status = 'queued';
    store.markDirty();
    ctx.log.warn({ err, imageId: image.id }, 'image upload failed; the image is back in queued');
    throw new ApiError(400, `Image data upload for ${image.id} failed: ${(err as Error).message}`);
  }

  // The image may have been deleted while its data streamed in.
  if (store.data.images[image.id] !== image) {
    await rm(temporary, { force: true });
    throw new ApiError(
      410,
      `Image ${image.id} could not be found after upload. The image may have been deleted during the upload.`,
    );
  }
  await rename(temporary, target);
  Object.assign(image, {
    status: 'active',
    size,
    checksum: md5.digest('hex'),
    osHashAlgo: 'sha512',
    osHashValue: sha512.digest('hex'),
    updatedAt: glanceTime(),
  });
  store.markDirty();
  ctx.log.info({ imageId: image.id, size }, 'image data uploaded');
  sendEmpty(ctx.res, 204);
}
