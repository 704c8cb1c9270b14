import type { Readable } from 'node:stream';

/**
 * A Glance v2 image as the API returns it: the standard fields, plus custom
 * properties flattened into the same object with string values.
 */
export interface GlanceImage {
  id: string;
  name: string | null;
  /** `queued`, `saving`, `active`, `killed`, `deactivated`, `deleted`, `pending_delete`, `uploading`, `importing`. */
  status: string;
  owner?: string | null;
  protected?: boolean;
  container_format?: string | null;
  disk_format?: string | null;
  size?: number | null;
  created_at?: string;
  updated_at?: string;
  [property: string]: unknown;
}

/** The body of an image create: standard fields plus custom properties. */
export interface GlanceImageCreate {
  name: string;
  container_format: string;
  disk_format: string;
  visibility: 'private' | 'shared' | 'community' | 'public';
  /** Custom properties; Glance stores each value as a string of at most 255 characters. */
  properties: Record<string, string>;
}

/**
 * The Glance operations the image publisher needs. The product implements it
 * over the project's OpenStack client (see `glance-adapter.ts`); keeping it
 * narrow lets the publisher be read and tested without the rest of that
 * client. Errors are the client's own; the publisher classifies them with
 * {@link glanceErrorStatus} and {@link isGlanceQuotaError}.
 */
export interface GlanceImages {
  /** Returns the ID of the project the client is scoped to; owned images carry it as `owner`. */
  projectID(): Promise<string>;
  /** Creates an image record in status `queued`. */
  createImage(request: GlanceImageCreate): Promise<GlanceImage>;
  /** Returns one image; throws an error with status 404 when it does not exist. */
  getImage(id: string): Promise<GlanceImage>;
  /** Returns every image matching the filters (standard fields and custom properties), all pages. */
  listImages(filters: Record<string, string>): Promise<GlanceImage[]>;
  /** Adds or replaces custom properties and returns the updated image. */
  updateImageProperties(id: string, properties: Record<string, string>): Promise<GlanceImage>;
  /** Deletes an image; throws an error with status 404 when it does not exist. */
  deleteImage(id: string): Promise<void>;
  /**
   * Streams data as the image file (`PUT /v2/images/{id}/file`, chunked). It
   * must read the stream as the network drains, so memory stays flat, and
   * must have no idle timeout that cuts a slow upload.
   */
  uploadImageData(id: string, data: Readable): Promise<void>;
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
export const partialImageStatuses: ReadonlySet<string> = new Set(['queued', 'saving', 'killed', 'uploading']);

/**
 * Returns the HTTP status an OpenStack client error carries (`statusCode` or
 * `status`), or undefined for errors without one, such as connection failures.
 */
export function glanceErrorStatus(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const { statusCode, status } = err as { statusCode?: unknown; status?: unknown };
  if (typeof statusCode === 'number') return statusCode;
  if (typeof status === 'number') return status;
  return undefined;
}

/**
 * Returns whether err is Glance refusing for quota or space: 413 (quota
 * exceeded, storage full), or 403 whose message mentions a quota, or an
 * error the client already classified as `quota`.
 */
export function isGlanceQuotaError(err: unknown): boolean {
  const status = glanceErrorStatus(err);
  const errorClass = typeof err === 'object' && err !== null ? (err as { class?: unknown }).class : undefined;
  if (errorClass === 'quota' || status === 413) return true;
  const message = err instanceof Error ? err.message : '';
  return status === 403 && /quota/i.test(message);
}
