import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import { ApiError, notFound } from './http/errors.js';
import { readJson, sendEmpty, sendJson } from './http/io.js';
import { Router, type RequestContext } from './http/router.js';
import type { ImageRecord } from './model.js';
import type { StateStore } from './state.js';

const containerFormats = ['ami', 'ari', 'aki', 'bare', 'ovf', 'ova', 'docker', 'compressed'];
const diskFormats = [
  'ami',
  'ari',
  'aki',
  'vhd',
  'vhdx',
  'vmdk',
  'raw',
  'qcow2',
  'vdi',
  'iso',
  'ploop',
];
const visibilities = ['public', 'private', 'shared', 'community'];
const readOnly = new Set([
  'status',
  'checksum',
  'size',
  'virtual_size',
  'created_at',
  'updated_at',
  'direct_url',
  'self',
  'file',
  'schema',
  'os_hash_algo',
  'os_hash_value',
  'locations',
  'owner',
]);
const patchContentTypes = [
  'application/openstack-images-v2.1-json-patch',
  'application/openstack-images-v2.0-json-patch',
];

/** Glance's timestamp format: whole seconds with Z. */
function glanceTime(ms = Date.now()): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Returns an image as Glance v2 shows it, custom properties as top-level keys. */
export function imageView(image: ImageRecord): Record<string, unknown> {
  return {
    ...image.properties,
    id: image.id,
    name: image.name,
    status: image.status,
    visibility: image.visibility,
    protected: image.protected,
    os_hidden: image.osHidden,
    owner: image.owner,
    container_format: image.containerFormat,
    disk_format: image.diskFormat,
    min_disk: image.minDisk,
    min_ram: image.minRam,
    size: image.size,
    virtual_size: null,
    checksum: image.checksum,
    os_hash_algo: image.osHashAlgo,
    os_hash_value: image.osHashValue,
    tags: image.tags,
    created_at: image.createdAt,
    updated_at: image.updatedAt,
    self: `/v2/images/${image.id}`,
    file: `/v2/images/${image.id}/file`,
    schema: '/v2/schemas/image',
  };
}

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

/** Streams the request body into the image store, hashing it on the way (MD5 checksum and SHA-512 os_hash_value). */
async function uploadImageData(
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

/** Sets one attribute from a create body or patch; throws 403 for read-only and 400 for invalid values. */
function setAttribute(image: ImageRecord, key: string, value: unknown): void {
  if (readOnly.has(key)) throw new ApiError(403, `Attribute '${key}' is read-only.`);
  const oneOf = (allowed: string[]): string | null => {
    if (value === null) return null;
    if (typeof value !== 'string' || !allowed.includes(value)) {
      throw new ApiError(
        400,
        `Invalid value ${JSON.stringify(value)} for ${key}; expected one of ${allowed.join(', ')}`,
      );
    }
    return value;
  };
  const count = (): number => {
    if (!Number.isInteger(value) || (value as number) < 0) {
      throw new ApiError(
        400,
        `Invalid value ${JSON.stringify(value)} for ${key}; expected a whole number >= 0`,
      );
    }
    return value as number;
  };
  const flag = (): boolean => {
    if (typeof value !== 'boolean')
      throw new ApiError(
        400,
        `Invalid value ${JSON.stringify(value)} for ${key}; expected true or false`,
      );
    return value;
  };

  switch (key) {
    case 'name':
      if (value !== null && (typeof value !== 'string' || value.length > 255)) {
        throw new ApiError(
          400,
          `Invalid value ${JSON.stringify(value)} for name; expected a string of at most 255 characters`,
        );
      }
      image.name = value as string | null;
      return;
    case 'container_format':
      if (image.status !== 'queued')
        throw new ApiError(
          403,
          'Attribute container_format can be only replaced for a queued image.',
        );
      image.containerFormat = oneOf(containerFormats);
      return;
    case 'disk_format':
      if (image.status !== 'queued')
        throw new ApiError(403, 'Attribute disk_format can be only replaced for a queued image.');
      image.diskFormat = oneOf(diskFormats);
      return;
    case 'visibility':
      image.visibility = oneOf(visibilities) as ImageRecord['visibility'];
      return;
    case 'protected':
      image.protected = flag();
      return;
    case 'os_hidden':
      image.osHidden = flag();
      return;
    case 'min_disk':
      image.minDisk = count();
      return;
    case 'min_ram':
      image.minRam = count();
      return;
    case 'tags':
      if (!Array.isArray(value) || value.some((tag) => typeof tag !== 'string')) {
        throw new ApiError(
          400,
          `Invalid value ${JSON.stringify(value)} for tags; expected a list of strings`,
        );
      }
      image.tags = [...new Set(value as string[])];
      return;
    default:
      if (typeof value !== 'string') {
        throw new ApiError(
          400,
          `Invalid value ${JSON.stringify(value)} for property ${key}; custom properties must be strings`,
        );
      }
      image.properties[key] = value;
  }
}

function applyPatch(
  image: ImageRecord,
  operation: { op?: string; path?: string; value?: unknown },
): void {
  const { op, path } = operation;
  if (
    !['add', 'replace', 'remove'].includes(op ?? '') ||
    typeof path !== 'string' ||
    !/^\/[^/]+$/.test(path)
  ) {
    throw new ApiError(
      400,
      `Invalid JSON patch operation ${JSON.stringify(operation)}; expected op add, replace or remove and a path like /name`,
    );
  }
  const key = path.slice(1).replace(/~1/g, '/').replace(/~0/g, '~');
  const isCustom = !(key in imageView({ ...image, properties: {} }));
  if (op === 'remove') {
    if (!isCustom) throw new ApiError(403, `Attribute '${key}' is read-only.`);
    if (!(key in image.properties)) throw new ApiError(409, `Property ${key} does not exist.`);
    delete image.properties[key];
    return;
  }
  if (op === 'replace' && isCustom && !(key in image.properties)) {
    throw new ApiError(409, `Property ${key} does not exist.`);
  }
  setAttribute(image, key, operation.value);
}

const listParameters = new Set([
  'limit',
  'marker',
  'sort_key',
  'sort_dir',
  'sort',
  'member_status',
]);
const sortKeys: Record<string, (image: ImageRecord) => string | number> = {
  created_at: (image) => image.createdAt,
  updated_at: (image) => image.updatedAt,
  name: (image) => image.name ?? '',
  size: (image) => image.size ?? -1,
  id: (image) => image.id,
  status: (image) => image.status,
};

/** Filters, sorts and pages images as GET /v2/images does; unknown query keys filter on custom properties. */
function listImages(ctx: RequestContext, all: ImageRecord[]): Record<string, unknown> {
  const { query } = ctx;
  let items = all.filter((image) => {
    const view = imageView(image);
    if (!query.has('os_hidden') && image.osHidden) return false;
    for (const key of new Set(query.keys())) {
      if (listParameters.has(key)) continue;
      const wanted = query.getAll(key);
      if (key === 'tag') {
        if (!wanted.every((tag) => image.tags.includes(tag))) return false;
      } else if (key === 'name' || key === 'id') {
        const values = wanted.flatMap((value) => value.replace(/^in:/, '').split(','));
        if (!values.includes(String(view[key]))) return false;
      } else if (!wanted.every((value) => String(view[key]) === value)) {
        return false;
      }
    }
    return true;
  });

  let sortKey = query.get('sort_key') ?? 'created_at';
  let sortDir = query.get('sort_dir') ?? 'desc';
  const sort = query.get('sort');
  if (sort) [sortKey = 'created_at', sortDir = 'desc'] = sort.split(',')[0]!.split(':');
  const key = sortKeys[sortKey];
  if (!key || !['asc', 'desc'].includes(sortDir)) {
    throw new ApiError(
      400,
      `Invalid sort ${JSON.stringify(`${sortKey}:${sortDir}`)}; sort keys: ${Object.keys(sortKeys).join(', ')}; directions: asc, desc`,
    );
  }
  const direction = sortDir === 'asc' ? 1 : -1;
  items = items.sort((a, b) => {
    const left = key(a);
    const right = key(b);
    if (left === right) return direction * a.id.localeCompare(b.id);
    return left < right ? -direction : direction;
  });

  const marker = query.get('marker');
  if (marker) {
    const index = items.findIndex((image) => image.id === marker);
    if (index < 0) throw new ApiError(400, `Invalid marker. Image ${marker} could not be found.`);
    items = items.slice(index + 1);
  }
  const limitText = query.get('limit') ?? '25';
  const limit = Number(limitText);
  if (!Number.isInteger(limit) || limit < 0) {
    throw new ApiError(400, `limit param must be an integer, got ${JSON.stringify(limitText)}`);
  }
  const page = items.slice(0, Math.min(limit, 1000));

  const params = new URLSearchParams(query);
  params.delete('marker');
  const first = params.size > 0 ? `/v2/images?${params.toString()}` : '/v2/images';
  const result: Record<string, unknown> = {
    images: page.map(imageView),
    first,
    schema: '/v2/schemas/images',
  };
  if (page.length > 0 && page.length === limit) {
    params.set('marker', page[page.length - 1]!.id);
    result.next = `/v2/images?${params.toString()}`;
  }
  return result;
}
