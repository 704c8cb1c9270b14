import { readFile } from 'node:fs/promises';

import { formatIpv4, parseCidr } from '../config.js';

/** One IPv4 route of the host: network address, prefix length and interface. */
export interface HostRoute {
  network: number;
  prefix: number;
  iface: string;
}

/** Parses the text of /proc/net/route (addresses in little-endian hex); skips the header and default routes. */
export function parseRouteTable(text: string): HostRoute[] {
  const routes: HostRoute[] = [];
  for (const line of text.split('\n').slice(1)) {
    const [iface, destination, , , , , , mask] = line.trim().split(/\s+/);
    if (!iface || !destination || !mask) continue;
    const network = littleEndian(destination);
    const maskValue = littleEndian(mask);
    const prefix = maskValue === 0 ? 0 : 32 - Math.log2(2 ** 32 - maskValue);
    if (prefix === 0 || !Number.isInteger(prefix)) continue;
    routes.push({ network, prefix, iface });
  }
  return routes;
}

function littleEndian(hex: string): number {
  const bytes = hex.match(/../g)?.map((pair) => parseInt(pair, 16)) ?? [];
  return bytes.reverse().reduce((acc, byte) => acc * 256 + byte, 0);
}

/**
 * Returns the host routes (other than default routes) that overlap an IPv4
 * CIDR, such as "10.0.0.0/16 dev eth0". Creating a bridge on an overlapping
 * subnet would take those addresses away from the host's other networks.
 * Returns an empty list when the route table cannot be read (not Linux).
 */
export async function overlappingRoutes(
  cidr: string,
  routeFile = '/proc/net/route',
): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(routeFile, 'utf8');
  } catch {
    return [];
  }
  const requested = parseCidr(cidr);
  const requestedSize = 2 ** (32 - requested.prefix);
  return parseRouteTable(text)
    .filter((route) => {
      const size = 2 ** (32 - route.prefix);
      return (
        route.network < requested.base + requestedSize && requested.base < route.network + size
      );
    })
    .map((route) => `${formatIpv4(route.network)}/${route.prefix} dev ${route.iface}`);
}
