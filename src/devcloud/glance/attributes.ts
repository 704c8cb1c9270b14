import { ApiError } from '../http/errors.js';
import type { ImageRecord } from '../model.js';

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
  'stores',
  'owner',
]);
export const patchContentTypes = [
  'application/openstack-images-v2.1-json-patch',
  'application/openstack-images-v2.0-json-patch',
];

/** Glance's timestamp format: whole seconds with Z. */
export function glanceTime(ms = Date.now()): string {
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
    // Glance with enabled_backends names the store holding the data; the dev cloud has one, called local.
    ...(image.size !== null ? { stores: 'local' } : {}),
  };
}

/** Sets one attribute from a create body or patch; throws 403 for read-only and 400 for invalid values. */
export function setAttribute(image: ImageRecord, key: string, value: unknown): void {
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

export function applyPatch(
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
