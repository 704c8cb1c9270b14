import type { Readable } from 'node:stream';

import {
  OpenStackError,
  type CreateImageRequest,
  type Image,
  type ListImagesOptions,
  type OpenStackClient,
  type UploadResult,
} from '../openstack/index.js';

/**
 * The Glance operations the image publisher needs: a narrow slice of the
 * project's OpenStack client, so tests can wrap it to count calls. Every
 * method throws {@link OpenStackError} on failure (class `notFound` for a
 * missing image, `quota` when Glance is full).
 */
export interface GlanceImages {
  /** Returns the ID of the project the client is scoped to; owned images carry it as `owner`. */
  projectID(): Promise<string>;
  /** Creates an image record in status `queued`. */
  createImage(request: CreateImageRequest): Promise<Image>;
  /** Returns one image. */
  getImage(id: string): Promise<Image>;
  /** Returns every image matching the filters, all pages. */
  listImages(options: ListImagesOptions): Promise<Image[]>;
  /** Adds or replaces custom properties and returns the updated image. */
  setImageProperties(id: string, properties: Record<string, string>): Promise<Image>;
  /** Deletes an image. */
  deleteImage(id: string): Promise<void>;
  /**
   * Streams data as the image file (`PUT /v2/images/{id}/file`, chunked). It
   * reads the stream as the network drains, so memory stays flat, and has no
   * idle timeout that cuts a slow upload.
   */
  uploadImage(id: string, data: Readable): Promise<UploadResult>;
}

/**
 * Returns the {@link GlanceImages} of one OpenStack client. Uploads run
 * without the client's per-request inactivity timeout: `docker save` of a
 * large image can be silent for minutes and a busy Glance store can stop
 * reading for as long, and TCP keepalive still ends dead connections.
 */
export function glanceImages(client: OpenStackClient): GlanceImages {
  const image = client.image;
  return {
    projectID: () => client.session.projectId(),
    createImage: (request) => image.createImage(request),
    getImage: (id) => image.getImage(id),
    listImages: (options) => image.listImages(options),
    setImageProperties: (id, properties) => image.setImageProperties(id, properties),
    deleteImage: (id) => image.deleteImage(id),
    uploadImage: (id, data) => image.uploadImage(id, data, { timeoutMs: 0 }),
  };
}

/** Custom property names the publisher writes on every image it creates. */
export const imageProperty = {
  /** Manifest digest of the registry image, e.g. `sha256:...`. */
  digest: 'novadocker.io/digest',
  /** The normalized image reference the image was published from. */
  source: 'novadocker.io/source',
  /** `true` on images the operator created and may delete. */
  managed: 'novadocker.io/managed',
  /** ISO 8601 time of the last publish, reuse or garbage-collection pass that saw it in use. */
  lastUsed: 'novadocker.io/last-used',
  /** Nova-Docker's container command override. */
  commandLine: 'os_command_line',
  /** Scheduler hint that routes servers to Nova-Docker hosts. */
  hypervisorType: 'hypervisor_type',
} as const;

/** Image statuses that mean an upload never finished, so the image cannot boot. */
export const partialImageStatuses: ReadonlySet<string> = new Set([
  'queued',
  'saving',
  'killed',
  'uploading',
]);

/** Returns the HTTP status of an OpenStack error, or undefined (connection failures, other errors). */
export function glanceErrorStatus(err: unknown): number | undefined {
  return err instanceof OpenStackError ? err.status : undefined;
}

/**
 * Returns whether err is Glance refusing for quota or space: class `quota`
 * (403 or 413 "Quota exceeded"), or any 413, which Glance also sends for
 * "Image storage media is full" and for images over `image_size_cap`.
 */
export function isGlanceQuotaError(err: unknown): boolean {
  return err instanceof OpenStackError && (err.errorClass === 'quota' || err.status === 413);
}

/** Returns whether err reports that the image does not exist (404). */
export function isGlanceNotFound(err: unknown): boolean {
  return err instanceof OpenStackError && err.errorClass === 'notFound';
}
