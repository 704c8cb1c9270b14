/**
 * Marker-based pagination shared by Nova (`servers_links`), Neutron
 * (`networks_links`) and Glance (`next`).
 */

/** Link objects as Nova and Neutron return them next to a collection. */
export interface CollectionLink {
  rel: string;
  href: string;
}

/**
 * Returns the query parameters of a `next` link. The client re-applies them
 * to its own endpoint URL instead of following the link itself, because
 * services build links from their own idea of their address, which behind a
 * proxy is often not the address the client reached them on.
 */
export function nextPageQuery(href: string | undefined): Record<string, string> | undefined {
  if (href === undefined || href === '') return undefined;
  const url = new URL(href, 'http://placeholder.invalid');
  const query: Record<string, string> = {};
  for (const [key, value] of url.searchParams) query[key] = value;
  return query.marker === undefined ? undefined : query;
}

/** Returns the href of the `next` link in a Nova or Neutron links list. */
export function nextLink(links: CollectionLink[] | undefined): string | undefined {
  return links?.find((link) => link.rel === 'next')?.href;
}

/**
 * Merges the next page's query over the first page's, keeping repeated
 * filters (such as Glance's `tag`) that a single-valued map would drop.
 */
export function mergePageQuery(
  first: Record<string, string | string[] | undefined>,
  next: Record<string, string>,
): Record<string, string | string[] | undefined> {
  return {
    ...first,
    marker: next.marker,
    ...(next.limit === undefined ? {} : { limit: next.limit }),
  };
}

/**
 * Collects every page of a paginated listing. `fetchPage` receives the
 * marker query of the page to fetch (none for the first page) and returns
 * the items and the next-page query; a page that repeats its marker ends the
 * listing, so a misbehaving service cannot loop forever.
 */
export async function* paginate<T>(
  fetchPage: (
    next: Record<string, string> | undefined,
  ) => Promise<{ items: T[]; next: Record<string, string> | undefined }>,
): AsyncGenerator<T[]> {
  const seen = new Set<string>();
  let next: Record<string, string> | undefined;
  do {
    const page = await fetchPage(next);
    yield page.items;
    next = page.items.length === 0 ? undefined : page.next;
    if (next?.marker !== undefined) {
      if (seen.has(next.marker)) break;
      seen.add(next.marker);
    }
  } while (next !== undefined);
}
