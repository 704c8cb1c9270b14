/**
 * Glance (image v2) client: create, get, list, JSON-patch update, delete,
 * streamed upload and download.
 */
import type { Readable } from 'node:stream';

import { nextPageQuery, mergePageQuery, paginate } from './pagination.js';
import { callRequestOptions, type CallOptions, type Session } from './session.js';

/** A Glance image. Custom properties (such as `os_command_line`) are in `properties`. */
export interface Image {
  id: string;
  name: string;
  /** queued, saving, active, killed, deleted, pending_delete, deactivated, uploading, importing. */
  status: string;
  containerFormat?: string;
  diskFormat?: string;
  visibility?: string;
  /** Size in bytes, once the data is uploaded. */
  size?: number;
  checksum?: string;
  /** Hash of the data with `osHashAlgo` (sha512 by default). */
  osHashAlgo?: string;
  osHashValue?: string;
  tags: string[];
  owner?: string;
  protected?: boolean;
  minDisk?: number;
  minRam?: number;
  createdAt?: string;
  updatedAt?: string;
  /** Every top-level key that is not a standard image field. */
  properties: Record<string, string>;
  raw: Record<string, unknown>;
}

/** Fields of an image create. */
export interface CreateImageRequest {
  name: string;
  /** @default "bare"; Nova-Docker images use "docker". */
  containerFormat?: string;
  /** @default "raw" */
  diskFormat?: string;
  /** public, private, shared or community; Glance defaults to shared. */
  visibility?: string;
  tags?: string[];
  /** Custom properties, stored as top-level string keys of the image. */
  properties?: Record<string, string>;
  minDisk?: number;
  minRam?: number;
  protected?: boolean;
}

/** Filters of an image listing; all combine with AND. */
export interface ListImagesOptions extends CallOptions {
  name?: string;
  status?: string;
  visibility?: string;
  /** Images that have every one of these tags. */
  tags?: string[];
  /** Project ID that owns the images. */
  owner?: string;
  /** Custom property filters, exact match, such as `{docker_digest: "sha256:..."}`. */
  properties?: Record<string, string>;
  /** Page size. */
  limit?: number;
}

/** One JSON-patch operation on an image (`application/openstack-images-v2.1-json-patch`). */
export type ImagePatchOperation =
  { op: 'add' | 'replace'; path: string; value: unknown } | { op: 'remove'; path: string };

/** Result of an upload. */
export interface UploadResult {
  bytesUploaded: number;
  requestId?: string;
}

/** A download: the data as a stream and the headers Glance sent with it. */
export interface ImageDownload {
  stream: Readable;
  contentLength?: number;
  /** MD5 checksum of the data, from Content-MD5. */
  checksum?: string;
}

/** Keys of the image schema; every other top-level key is a custom property. */
const standardKeys = new Set([
  'id',
  'name',
  'status',
  'container_format',
  'disk_format',
  'visibility',
  'size',
  'virtual_size',
  'checksum',
  'os_hash_algo',
  'os_hash_value',
  'tags',
  'owner',
  'protected',
  'min_disk',
  'min_ram',
  'created_at',
  'updated_at',
  'self',
  'file',
  'schema',
  'locations',
  'direct_url',
  'os_hidden',
  'stores',
]);

type Json = Record<string, unknown>;

/**
 * Image API of one session. Every method throws {@link OpenStackError} on
 * failure, with class `notFound` for a missing image.
 */
export class ImageClient {
  readonly #session: Session;

  constructor(session: Session) {
    this.#session = session;
  }

  /** Creates an image record in status `queued`; upload its data with {@link ImageClient.uploadImage}. */
  async createImage(request: CreateImageRequest, options: CallOptions = {}): Promise<Image> {
    const body: Json = {
      ...request.properties,
      name: request.name,
      container_format: request.containerFormat ?? 'bare',
      disk_format: request.diskFormat ?? 'raw',
    };
    if (request.visibility !== undefined) body.visibility = request.visibility;
    if (request.tags !== undefined) body.tags = request.tags;
    if (request.minDisk !== undefined) body.min_disk = request.minDisk;
    if (request.minRam !== undefined) body.min_ram = request.minRam;
    if (request.protected !== undefined) body.protected = request.protected;

    const response = await this.#session.request<Json>('image', {
      method: 'POST',
      path: '/images',
      route: '/v2/images',
      json: body,
      ...callRequestOptions(options),
    });
    return toImage(response.body);
  }

  /** Returns one image; throws with class `notFound` when it does not exist. */
  async getImage(id: string, options: CallOptions = {}): Promise<Image> {
    const response = await this.#session.request<Json>('image', {
      method: 'GET',
      path: `/images/${encodeURIComponent(id)}`,
      route: '/v2/images/{id}',
      ...callRequestOptions(options),
    });
    return toImage(response.body);
  }

  /** Lists every image matching the filters, following Glance's `next` links. */
  async listImages(options: ListImagesOptions = {}): Promise<Image[]> {
    const images: Image[] = [];
    for await (const page of this.listImagePages(options)) images.push(...page);
    return images;
  }

  /** Lists images page by page. */
  async *listImagePages(options: ListImagesOptions = {}): AsyncGenerator<Image[]> {
    const query: Record<string, string | string[] | undefined> = {
      ...options.properties,
      name: options.name,
      status: options.status,
      visibility: options.visibility,
      owner: options.owner,
      tag: options.tags,
      limit: options.limit === undefined ? undefined : String(options.limit),
    };
    yield* paginate(async (next) => {
      const response = await this.#session.request<{ images: Json[]; next?: string }>('image', {
        method: 'GET',
        path: '/images',
        route: '/v2/images',
        query: next === undefined ? query : mergePageQuery(query, next),
        ...callRequestOptions(options),
      });
      return { items: response.body.images.map(toImage), next: nextPageQuery(response.body.next) };
    });
  }

  /** Applies JSON-patch operations to an image and returns it updated. */
  async updateImage(
    id: string,
    operations: ImagePatchOperation[],
    options: CallOptions = {},
  ): Promise<Image> {
    const response = await this.#session.request<Json>('image', {
      method: 'PATCH',
      path: `/images/${encodeURIComponent(id)}`,
      route: '/v2/images/{id}',
      json: operations,
      headers: { 'Content-Type': 'application/openstack-images-v2.1-json-patch' },
      ...callRequestOptions(options),
    });
    return toImage(response.body);
  }

  /**
   * Sets custom properties (`add` replaces an existing value in Glance) and
   * removes those given as null. Returns the updated image.
   */
  async setImageProperties(
    id: string,
    properties: Record<string, string | null>,
    options: CallOptions = {},
  ): Promise<Image> {
    const operations: ImagePatchOperation[] = Object.entries(properties).map(([key, value]) =>
      value === null
        ? { op: 'remove', path: `/${escapePointer(key)}` }
        : { op: 'add', path: `/${escapePointer(key)}`, value },
    );
    return this.updateImage(id, operations, options);
  }

  /** Deletes an image; throws `notFound` when it is already gone. */
  async deleteImage(id: string, options: CallOptions = {}): Promise<void> {
    await this.#session.request('image', {
      method: 'DELETE',
      path: `/images/${encodeURIComponent(id)}`,
      route: '/v2/images/{id}',
      ...callRequestOptions(options),
    });
  }

  /**
   * Streams the data of a `queued` image to Glance with chunked transfer
   * encoding, without buffering it; the image becomes `active` when Glance
   * has stored and hashed it. The upload is never retried (the stream is
   * consumed), and the timeout bounds inactivity, not the whole transfer.
   */
  async uploadImage(id: string, data: Readable, options: CallOptions = {}): Promise<UploadResult> {
    const response = await this.#session.request('image', {
      method: 'PUT',
      path: `/images/${encodeURIComponent(id)}/file`,
      route: '/v2/images/{id}/file',
      body: data,
      headers: { 'Content-Type': 'application/octet-stream' },
      ...callRequestOptions(options),
    });
    return {
      bytesUploaded: response.bytesSent ?? 0,
      ...(response.requestId === undefined ? {} : { requestId: response.requestId }),
    };
  }

  /** Returns the data of an `active` image as a stream, which the caller must consume or destroy. */
  async downloadImage(id: string, options: CallOptions = {}): Promise<ImageDownload> {
    const response = await this.#session.request('image', {
      method: 'GET',
      path: `/images/${encodeURIComponent(id)}/file`,
      route: '/v2/images/{id}/file',
      responseType: 'stream',
      ...callRequestOptions(options),
    });
    const length = response.headers.get('content-length');
    const checksum = response.headers.get('content-md5');
    return {
      stream: response.stream!,
      ...(length === null ? {} : { contentLength: Number(length) }),
      ...(checksum === null ? {} : { checksum }),
    };
  }
}

/** Converts an image from Glance's JSON. */
export function toImage(raw: Json): Image {
  const properties: Record<string, string> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (!standardKeys.has(key) && value !== null && value !== undefined)
      properties[key] = String(value);
  }
  const image: Image = {
    id: String(raw.id),
    name: typeof raw.name === 'string' ? raw.name : '',
    status: String(raw.status ?? ''),
    tags: Array.isArray(raw.tags) ? raw.tags.map(String) : [],
    properties,
    raw,
  };
  if (typeof raw.container_format === 'string') image.containerFormat = raw.container_format;
  if (typeof raw.disk_format === 'string') image.diskFormat = raw.disk_format;
  if (typeof raw.visibility === 'string') image.visibility = raw.visibility;
  if (typeof raw.size === 'number') image.size = raw.size;
  if (typeof raw.checksum === 'string') image.checksum = raw.checksum;
  if (typeof raw.os_hash_algo === 'string') image.osHashAlgo = raw.os_hash_algo;
  if (typeof raw.os_hash_value === 'string') image.osHashValue = raw.os_hash_value;
  if (typeof raw.owner === 'string') image.owner = raw.owner;
  if (typeof raw.protected === 'boolean') image.protected = raw.protected;
  if (typeof raw.min_disk === 'number') image.minDisk = raw.min_disk;
  if (typeof raw.min_ram === 'number') image.minRam = raw.min_ram;
  if (typeof raw.created_at === 'string') image.createdAt = raw.created_at;
  if (typeof raw.updated_at === 'string') image.updatedAt = raw.updated_at;
  return image;
}

/** Escapes a property name for a JSON pointer (RFC 6901). */
function escapePointer(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}
