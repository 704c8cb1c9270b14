/**
 * Endpoint selection from the Keystone catalog, and the versioned base URL
 * each service client expects.
 */
import type { CatalogEntry } from './auth.js';
import type { EndpointInterface } from './config.js';
import { OpenStackLookupError, type ServiceType } from './errors.js';

/** Criteria an endpoint of the catalog must match. */
export interface EndpointQuery {
  service: ServiceType;
  interface: EndpointInterface;
  regionName?: string;
  cloudName: string;
}

/**
 * Returns the URL of the endpoint for the service type, interface and region.
 * Without a region, the service must have endpoints in exactly one region.
 * Throws {@link OpenStackLookupError} listing what the catalog does offer.
 */
export function selectEndpoint(catalog: CatalogEntry[], query: EndpointQuery): string {
  const lookupError = (available: string[], reference: string) =>
    new OpenStackLookupError({
      service: query.service,
      path: '/v3/auth/tokens',
      resource: `${query.service} endpoint`,
      reference,
      available,
      cloud: query.cloudName,
      ...(query.regionName === undefined ? {} : { region: query.regionName }),
    });

  const entries = catalog.filter((entry) => entry.type === query.service);
  if (entries.length === 0) {
    throw lookupError(
      catalog.map((entry) => entry.type),
      `of type ${query.service}`,
    );
  }

  const endpoints = entries.flatMap((entry) => entry.endpoints);
  const matching = endpoints.filter(
    (endpoint) =>
      endpoint.interface === query.interface &&
      (query.regionName === undefined || endpoint.regionId === query.regionName),
  );
  const describeAll = () =>
    endpoints.map((endpoint) => `${endpoint.interface} in ${endpoint.regionId ?? 'no region'}`);

  if (matching.length === 0) {
    throw lookupError(
      describeAll(),
      `with interface ${query.interface}${query.regionName ? ` in region ${query.regionName}` : ''}`,
    );
  }

  const regions = new Set(matching.map((endpoint) => endpoint.regionId ?? ''));
  if (regions.size > 1) {
    throw lookupError(
      [...regions].map((region) => `region ${region}`),
      `with interface ${query.interface} in one region (set region_name to choose)`,
    );
  }
  return matching[0]!.url.replace(/\/+$/, '');
}

/** The version path segment each service's API lives under. */
const versionSegments: Record<ServiceType, RegExp> = {
  identity: /\/v3$/,
  compute: /\/v2(\.1)?(\/[^/]+)?$/,
  image: /\/v2(\.\d+)?$/,
  network: /\/v2\.0$/,
};

const defaultVersions: Record<ServiceType, string> = {
  identity: 'v3',
  compute: 'v2.1',
  image: 'v2',
  network: 'v2.0',
};

/**
 * Appends the API version to an unversioned endpoint URL. Clouds register
 * Glance and Neutron without a version (`http://host:9292`) and Nova with one
 * (`http://host:8774/v2.1`, sometimes followed by the project ID).
 */
export function versionedBaseUrl(service: ServiceType, url: string): string {
  const trimmed = url.replace(/\/+$/, '');
  if (versionSegments[service].test(trimmed)) return trimmed;
  return `${trimmed}/${defaultVersions[service]}`;
}
