/**
 * Shared pieces of the image publisher tests: a Glance wrapper that counts
 * calls, a log capture, a TCP proxy that cuts one upload, and helpers that
 * read back what the publisher stored.
 */
import { once } from 'node:events';
import net from 'node:net';
import { PassThrough, type Readable } from 'node:stream';

import type Docker from 'dockerode';

import type { GlanceImages } from '../../../src/images/glance.js';
import { createLogger, type Logger } from '../../../src/observability/logger.js';
import type { CreateImageRequest, Image, ListImagesOptions } from '../../../src/openstack/index.js';

/** Calls made through a {@link CountingGlance}. */
export interface GlanceCallCounts {
  creates: number;
  uploads: number;
  deletes: number;
  lists: number;
}

/** Passes every call to the real client and counts the ones the tests assert on. */
export class CountingGlance implements GlanceImages {
  readonly counts: GlanceCallCounts = { creates: 0, uploads: 0, deletes: 0, lists: 0 };

  constructor(private readonly inner: GlanceImages) {}

  projectID(): Promise<string> {
    return this.inner.projectID();
  }
  createImage(request: CreateImageRequest): Promise<Image> {
    this.counts.creates++;
    return this.inner.createImage(request);
  }
  getImage(id: string): Promise<Image> {
    return this.inner.getImage(id);
  }
  listImages(options: ListImagesOptions): Promise<Image[]> {
    this.counts.lists++;
    return this.inner.listImages(options);
  }
  setImageProperties(id: string, properties: Record<string, string>): Promise<Image> {
    return this.inner.setImageProperties(id, properties);
  }
  deleteImage(id: string): Promise<void> {
    this.counts.deletes++;
    return this.inner.deleteImage(id);
  }
  uploadImage(id: string, data: Readable): ReturnType<GlanceImages['uploadImage']> {
    this.counts.uploads++;
    return this.inner.uploadImage(id, data);
  }
}

/** Creates a pino logger whose JSON lines the test can read back. */
export function captureLogs(): { logger: Logger; text: () => string } {
  const stream = new PassThrough();
  const chunks: string[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk.toString('utf8')));
  return {
    logger: createLogger({ level: 'debug', name: 'images-test' }, stream),
    text: () => chunks.join(''),
  };
}

/** A proxy started by {@link startCuttingProxy}. */
export interface CuttingProxy {
  /** `http://127.0.0.1:PORT`, to put in front of the upstream path. */
  origin: string;
  /** Connections cut so far. */
  cuts: number;
  stop(): Promise<void>;
}

/**
 * Starts a TCP proxy to upstream (host:port on 127.0.0.1) that destroys any
 * connection once the client has sent more than cutAfterBytes on it. This is
 * the one fake in these tests: no real Glance drops a connection halfway
 * through an upload on demand, and a network cut is what the publisher must
 * survive. Requests smaller than the limit pass unchanged.
 */
export async function startCuttingProxy(
  upstreamPort: number,
  cutAfterBytes: number,
): Promise<CuttingProxy> {
  const sockets = new Set<net.Socket>();
  const proxy: CuttingProxy = { origin: '', cuts: 0, stop: async () => undefined };

  const server = net.createServer((client) => {
    const upstream = net.connect(upstreamPort, '127.0.0.1');
    sockets.add(client).add(upstream);
    let sent = 0;
    const close = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('data', (chunk: Buffer) => {
      sent += chunk.length;
      if (sent > cutAfterBytes) {
        proxy.cuts++;
        close();
        return;
      }
      if (!upstream.write(chunk)) client.pause();
    });
    upstream.on('drain', () => client.resume());
    upstream.pipe(client);
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;

  proxy.origin = `http://127.0.0.1:${port}`;
  proxy.stop = async () => {
    for (const socket of sockets) socket.destroy();
    server.close();
    await once(server, 'close');
  };
  return proxy;
}

/** Loads an image archive into the engine and returns the names `docker load` reports. */
export async function dockerLoad(docker: Docker, archive: Readable): Promise<string[]> {
  const response = (await docker.loadImage(archive)) as Readable;
  let output = '';
  for await (const chunk of response) output += (chunk as Buffer).toString('utf8');
  const names: string[] = [];
  for (const line of output.split('\n').filter(Boolean)) {
    const event = JSON.parse(line) as { stream?: string; error?: string };
    if (event.error) throw new Error(`docker load failed: ${event.error}`);
    const match = /^Loaded image: (.+)$/m.exec(event.stream ?? '');
    if (match) names.push(match[1]!.trim());
  }
  return names;
}

/** Returns the number of `pull` events the engine recorded between two times (Unix seconds). */
export async function pullEvents(docker: Docker, since: number, until: number): Promise<number> {
  const stream = (await docker.getEvents({
    since,
    until,
    filters: { type: ['image'], event: ['pull'] },
  })) as unknown as Readable;
  let text = '';
  for await (const chunk of stream) text += (chunk as Buffer).toString('utf8');
  return text.split('\n').filter(Boolean).length;
}
