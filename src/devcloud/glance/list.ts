import { ApiError } from '../http/errors.js';
import type { RequestContext } from '../http/router.js';
import type { ImageRecord } from '../model.js';
import { imageView } from './attributes.js';

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
export function listImages(ctx: RequestContext, all: ImageRecord[]): Record<string, unknown> {
  const { query } = ctx;
  let items = all.filter((image) => {
    const view = imageView(image);
    if (!query.has('os_hidden') && image.osHidden) return false;
    for (const key of new Set(query.keys())) {
      if (listParameters.has(key)) continue;
      const requested = query.getAll(key);
      if (key === 'tag') {
        if (!requested.every((tag) => image.tags.includes(tag))) return false;
      } else if (key === 'name' || key === 'id') {
        const values = requested.flatMap((value) => value.replace(/^in:/, '').split(','));
        if (!values.includes(String(view[key]))) return false;
      } else if (!requested.every((value) => String(view[key]) === value)) {
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
