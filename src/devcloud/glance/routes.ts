import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';

import { ApiError, notFound } from '../http/errors.js';
import { readJson, sendEmpty, sendJson } from '../http/io.js';
import { Router, type RequestContext } from '../http/router.js';
import type { ImageRecord } from '../model.js';
import type { StateStore } from '../state.js';
import {
  applyPatch,
  glanceTime,
  imageView,
  patchContentTypes,
  setAttribute,
} from './attributes.js';
import { uploadImageData } from './image-data.js';
import { listImages } from './list.js';

/**
 * Builds the Glance v2 routes: image create, list (filters, custom property
 * filters, marker pagination with next), get, JSON-patch update, delete, tags,
 * and image data upload and download streamed to and from the data folder.
 */
export function glanceRouter(store: StateStore): Router {
  const router = new Router();
  const images = store.data.images;

  const visible = (ctx: RequestContext, image: ImageRecord | undefined): image is ImageRecord =>
    image !== undefined &&
    (image.owner === ctx.auth!.projectId ||
      image.visibility === 'public' ||
      image.visibility === 'community');
  const find = (ctx: RequestContext): ImageRecord => {
    const image = images[ctx.params.image_id!];
    if (!visible(ctx, image)) throw notFound(`No image found with ID ${ctx.params.image_id}`);
    return image;
  };

  router.add(
    'GET',
    '/',
    async (ctx) => {
      sendJson(ctx.res, 300, {
        versions: [
          {
            id: 'v2.16',
            status: 'CURRENT',
            links: [{ rel: 'self', href: `${ctx.serviceUrl}/v2/` }],
          },
        ],
      });
    },
    { public: true },
  );

  router.add('POST', '/v2/images', async (ctx) => {
    const body = await readJson(ctx.req);
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new ApiError(400, 'Request body must be a JSON object of image properties.');
    }
    const input = body as Record<string, unknown>;
    const id = input.id === undefined ? randomUUID() : String(input.id);
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) {
      throw new ApiError(
        400,
        `Provided object does not match schema 'image': '${id}' is not a valid UUID for id`,
      );
    }
    if (images[id]) throw new ApiError(409, `Image with identifier ${id} already exists!`);

    const now = glanceTime();
    const image: ImageRecord = {
      id,
      name: null,
      status: 'queued',
      visibility: 'shared',
      protected: false,
      osHidden: false,
      owner: ctx.auth!.projectId,
      containerFormat: null,
      diskFormat: null,
      minDisk: 0,
      minRam: 0,
      size: null,
      checksum: null,
      osHashAlgo: null,
      osHashValue: null,
      tags: [],
      properties: {},
      createdAt: now,
      updatedAt: now,
    };
    for (const [key, value] of Object.entries(input)) {
      if (key !== 'id') setAttribute(image, key, value);
    }
    images[id] = image;
    store.markDirty();
    ctx.log.info({ imageId: id, name: image.name }, 'image created');
    sendJson(ctx.res, 201, imageView(image), { Location: `${ctx.serviceUrl}/v2/images/${id}` });
  });

  router.add('GET', '/v2/images', async (ctx) => {
    sendJson(
      ctx.res,
      200,
      listImages(
        ctx,
        Object.values(images).filter((image) => visible(ctx, image)),
      ),
    );
  });

  router.add('GET', '/v2/images/{image_id}', async (ctx) => {
    sendJson(ctx.res, 200, imageView(find(ctx)));
  });

  router.add('PATCH', '/v2/images/{image_id}', async (ctx) => {
    const image = find(ctx);
    const contentType = (ctx.req.headers['content-type'] ?? '').split(';')[0]!.trim();
    if (!patchContentTypes.includes(contentType)) {
      throw new ApiError(
        415,
        `Unsupported Content-Type ${JSON.stringify(contentType)}; use ${patchContentTypes[0]}`,
      );
    }
    const operations = await readJson(ctx.req);
    if (!Array.isArray(operations))
      throw new ApiError(400, 'Request body must be a JSON array of patch operations.');
    const draft = structuredClone(image);
    for (const operation of operations as Array<{ op?: string; path?: string; value?: unknown }>) {
      applyPatch(draft, operation);
    }
    draft.updatedAt = glanceTime();
    images[image.id] = draft;
    store.markDirty();
    sendJson(ctx.res, 200, imageView(draft));
  });

  router.add('DELETE', '/v2/images/{image_id}', async (ctx) => {
    const image = find(ctx);
    if (image.protected)
      throw new ApiError(403, `Image ${image.id} is protected and cannot be deleted.`);
    delete images[image.id];
    store.markDirty();
    await rm(store.imagePath(image.id), { force: true });
    ctx.log.info({ imageId: image.id }, 'image deleted');
    sendEmpty(ctx.res, 204);
  });

  router.add('PUT', '/v2/images/{image_id}/tags/{tag}', async (ctx) => {
    const image = find(ctx);
    if (!image.tags.includes(ctx.params.tag!)) image.tags.push(ctx.params.tag!);
    image.updatedAt = glanceTime();
    store.markDirty();
    sendEmpty(ctx.res, 204);
  });
  router.add('DELETE', '/v2/images/{image_id}/tags/{tag}', async (ctx) => {
    const image = find(ctx);
    if (!image.tags.includes(ctx.params.tag!)) throw notFound(`Tag ${ctx.params.tag} not found`);
    image.tags = image.tags.filter((tag) => tag !== ctx.params.tag);
    image.updatedAt = glanceTime();
    store.markDirty();
    sendEmpty(ctx.res, 204);
  });

  router.add('PUT', '/v2/images/{image_id}/file', async (ctx) => {
    await uploadImageData(ctx, store, find(ctx));
  });

  router.add('GET', '/v2/images/{image_id}/file', async (ctx) => {
    const image = find(ctx);
    if (image.status !== 'active' || image.size === null) {
      sendEmpty(ctx.res, 204);
      return;
    }
    ctx.res.writeHead(200, {
      'Content-Type': 'application/octet-stream',
      'Content-Length': image.size,
      'Content-MD5': image.checksum ?? '',
    });
    await pipeline(createReadStream(store.imagePath(image.id)), ctx.res);
  });
  return router;
}
