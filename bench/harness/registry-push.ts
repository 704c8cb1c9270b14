/**
 * Pushes a minimal image to a registry through the Docker Registry HTTP API
 * v2, without a Docker Engine: one gzipped tar layer holding one file, an
 * image config and a schema 2 manifest. The convergence benchmark only needs
 * the registry to resolve the reference to a digest, so the image is never run.
 */
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';

/** The pushed image. */
export interface PushedImage {
  /** `host/repository:tag`. */
  reference: string;
  /** Manifest digest, `sha256:...`. */
  digest: string;
  /** The layer blob, usable as the image data of a Glance image. */
  layer: Buffer;
}

const sha256 = (data: Buffer) => `sha256:${createHash('sha256').update(data).digest('hex')}`;

/**
 * Pushes `repository:tag` to the registry at `url` (plain HTTP, no
 * authentication). Rejects naming the step and the registry's response.
 */
export async function pushMinimalImage(
  url: string,
  repository: string,
  tag: string,
): Promise<PushedImage> {
  const tar = tarWithOneFile('hello.txt', Buffer.from('nova-docker-operator benchmark image\n'));
  const layer = gzipSync(tar);
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: { Cmd: ['/hello.txt'] },
      rootfs: { type: 'layers', diff_ids: [sha256(tar)] },
    }),
  );
  await pushBlob(url, repository, layer);
  await pushBlob(url, repository, config);

  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
      config: {
        mediaType: 'application/vnd.docker.container.image.v1+json',
        size: config.length,
        digest: sha256(config),
      },
      layers: [
        {
          mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
          size: layer.length,
          digest: sha256(layer),
        },
      ],
    }),
  );
  const response = await fetch(`${url}/v2/${repository}/manifests/${tag}`, {
    method: 'PUT',
    headers: { 'Content-Type': 'application/vnd.docker.distribution.manifest.v2+json' },
    body: manifest,
  });
  if (response.status !== 201) {
    throw new Error(
      `pushing the manifest of ${repository}:${tag} to ${url} failed with ${response.status}: ${await response.text()}`,
    );
  }
  const host = new URL(url).host;
  return { reference: `${host}/${repository}:${tag}`, digest: sha256(manifest), layer };
}

/** Uploads one blob with a monolithic POST-then-PUT upload. */
async function pushBlob(url: string, repository: string, blob: Buffer): Promise<void> {
  const started = await fetch(`${url}/v2/${repository}/blobs/uploads/`, { method: 'POST' });
  const location = started.headers.get('location');
  if (started.status !== 202 || !location) {
    throw new Error(
      `starting a blob upload to ${url}/v2/${repository} failed with ${started.status}: ${await started.text()}`,
    );
  }
  const target = new URL(location, url);
  target.searchParams.set('digest', sha256(blob));
  const finished = await fetch(target, {
    method: 'PUT',
    headers: { 'Content-Type': 'application/octet-stream' },
    body: blob,
  });
  if (finished.status !== 201) {
    throw new Error(
      `uploading blob ${sha256(blob)} to ${url}/v2/${repository} failed with ${finished.status}: ${await finished.text()}`,
    );
  }
}

/** Returns a POSIX ustar archive with one regular file. */
function tarWithOneFile(name: string, content: Buffer): Buffer {
  const header = Buffer.alloc(512);
  header.write(name, 0, 100, 'utf8');
  header.write('0000644\0', 100);
  header.write('0000000\0', 108);
  header.write('0000000\0', 116);
  header.write(`${content.length.toString(8).padStart(11, '0')}\0`, 124);
  header.write(`${'0'.repeat(11)}\0`, 136);
  header.write('        ', 148);
  header.write('0', 156);
  header.write('ustar\0', 257);
  header.write('00', 263);
  let checksum = 0;
  for (const byte of header) checksum += byte;
  header.write(`${checksum.toString(8).padStart(6, '0')}\0 `, 148);

  const padding = Buffer.alloc((512 - (content.length % 512)) % 512);
  return Buffer.concat([header, content, padding, Buffer.alloc(1024)]);
}
