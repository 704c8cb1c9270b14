import type { IncomingMessage, ServerResponse } from 'node:http';

import { ApiError } from './errors.js';

/** Largest JSON request body accepted, in bytes; Glance image data is streamed and not limited by this. */
export const maxJsonBodyBytes = 1024 * 1024;

/**
 * Reads and parses a JSON request body. Returns undefined for an empty body;
 * throws a 400 ApiError for malformed JSON and 413 for a body over maxJsonBodyBytes.
 */
export async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxJsonBodyBytes) {
      throw new ApiError(413, `Request body is larger than ${maxJsonBodyBytes} bytes.`);
    }
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiError(400, 'Malformed request body');
  }
}

/** Sends a JSON response with the given status and extra headers. */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
  });
  res.end(text);
}

/** Sends a response without a body (204, or 202 for Nova actions). */
export function sendEmpty(
  res: ServerResponse,
  status: number,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { ...headers, 'Content-Length': 0 });
  res.end();
}
