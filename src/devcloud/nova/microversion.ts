import type { IncomingMessage, ServerResponse } from 'node:http';

import { ApiError } from '../http/errors.js';

/** Lowest and highest compute microversion the dev cloud serves (Nova 2023.1 "Antelope" tops out at 2.95; Zed at 2.93). */
export const minMicroversion = '2.1';
export const maxMicroversion = '2.93';
const maxMinor = 93;

/** A requested compute microversion; only the minor part varies, since every version is 2.x. */
export class Microversion {
  constructor(readonly minor: number) {}

  /** Returns whether this version is the given one (such as "2.26") or later. */
  atLeast(version: string): boolean {
    return this.minor >= Number(version.split('.')[1]);
  }

  toString(): string {
    return `2.${this.minor}`;
  }
}

/**
 * Reads the microversion from OpenStack-API-Version ("compute 2.26") or the
 * older X-OpenStack-Nova-API-Version header, defaulting to 2.1, and sets the
 * response headers Nova sends. Throws 400 for a malformed version and 406 for
 * one outside 2.1 to 2.93, with Nova's messages.
 */
export function negotiateMicroversion(req: IncomingMessage, res: ServerResponse): Microversion {
  let requested: string | undefined;
  const header = req.headers['openstack-api-version'];
  if (typeof header === 'string') {
    for (const entry of header.split(',')) {
      const [service, version] = entry.trim().split(/\s+/);
      if (service?.toLowerCase() === 'compute' && version) requested = version;
    }
  }
  const legacy = req.headers['x-openstack-nova-api-version'];
  if (requested === undefined && typeof legacy === 'string') requested = legacy.trim();

  let version = new Microversion(1);
  if (requested !== undefined) {
    if (requested.toLowerCase() === 'latest') {
      version = new Microversion(maxMinor);
    } else {
      const match = /^(\d+)\.(\d+)$/.exec(requested);
      if (!match || (match[2]!.startsWith('0') && match[2] !== '0')) {
        throw new ApiError(
          400,
          `API Version String ${requested} is of invalid format. Must be of format MajorNum.MinorNum.`,
        );
      }
      const minor = Number(match[2]);
      if (match[1] !== '2' || minor < 1 || minor > maxMinor) {
        // Nova echoes the refused version in the response headers.
        setVersionHeaders(res, requested);
        throw new ApiError(
          406,
          `Version ${requested} is not supported by the API. Minimum is ${minMicroversion} and maximum is ${maxMicroversion}.`,
        );
      }
      version = new Microversion(minor);
    }
  }
  setVersionHeaders(res, String(version));
  return version;
}

function setVersionHeaders(res: ServerResponse, version: string): void {
  res.setHeader('OpenStack-API-Version', `compute ${version}`);
  res.setHeader('X-OpenStack-Nova-API-Version', version);
  res.setHeader('Vary', 'OpenStack-API-Version, X-OpenStack-Nova-API-Version');
}
