/**
 * Builds small Docker images offline: a rootfs holding Debian's static
 * busybox (with a link for every applet) is packed by tar and fed to
 * `docker import`, so tests never pull from the internet.
 */
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { chmod, copyFile, mkdir, open, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

import type Docker from 'dockerode';

import { requireExecutables } from './host-packages.js';
import { followProgress } from './image-transfer.js';
import { makeStateDir, removeStateDir } from './state.js';

const execFileAsync = promisify(execFile);

/** Options for buildTestImage. */
export interface TestImageOptions {
  /** Adds /filler.bin with this many random (incompressible) bytes. @default no filler file */
  sizeBytes?: number;
  /** The image's CMD. @default ['sh'] */
  cmd?: string[];
  /** The image's environment as `NAME=value` entries, added after PATH. @default [] */
  env?: string[];
}

/** An image buildTestImage created in the engine. */
export interface TestImage {
  /** The reference it was tagged with, e.g. `127.0.0.1:5000/test/busybox:v1`. */
  reference: string;
  /** The image ID, `sha256:...`. */
  id: string;
}

const PATH_ENV = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * Creates the image `tag` (a reference with or without `:tag`, default
 * `latest`) in the given engine from a busybox rootfs, without network
 * access. Throws when busybox-static is missing and cannot be installed,
 * when the found busybox is dynamically linked, or when the import fails.
 */
export async function buildTestImage(
  docker: Docker,
  tag: string,
  options: TestImageOptions = {},
): Promise<TestImage> {
  const { repo, tag: imageTag } = splitReference(tag);
  if (
    options.sizeBytes !== undefined &&
    (!Number.isSafeInteger(options.sizeBytes) || options.sizeBytes < 0)
  ) {
    throw new Error(`sizeBytes must be a non-negative integer; received ${options.sizeBytes}`);
  }

  const dir = await makeStateDir('img');
  try {
    const rootfs = join(dir, 'rootfs');
    await writeRootfs(rootfs, options.sizeBytes ?? 0);

    const changes = [
      `CMD ${JSON.stringify(options.cmd ?? ['sh'])}`,
      ...[PATH_ENV, ...(options.env ?? [])].map((entry) => `ENV ${entry}`),
    ];
    const tar = spawn(
      'tar',
      ['--numeric-owner', '--owner=0', '--group=0', '-C', rootfs, '-cf', '-', '.'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const tarExit = once(tar, 'close');
    const response = await docker.importImage(tar.stdout, {
      repo,
      tag: imageTag,
      changes,
      message: 'offline busybox test image',
    } as object);
    await followProgress(docker, response);
    const [code] = (await tarExit) as [number | null];
    if (code !== 0) throw new Error(`tar of the test rootfs ${rootfs} exited with ${code}`);

    const reference = `${repo}:${imageTag}`;
    const inspect = await docker.getImage(reference).inspect();
    return { reference, id: inspect.Id };
  } finally {
    await removeStateDir(dir);
  }
}

/** Splits `host:port/name:tag` at the tag colon, which is the last one after the last slash. */
function splitReference(reference: string): { repo: string; tag: string } {
  if (reference === '' || /[\s@]/.test(reference)) {
    throw new Error(
      `invalid image reference "${reference}"; use name[:tag], e.g. 127.0.0.1:5000/test/app:v1`,
    );
  }
  const slash = reference.lastIndexOf('/');
  const colon = reference.lastIndexOf(':');
  if (colon > slash) return { repo: reference.slice(0, colon), tag: reference.slice(colon + 1) };
  return { repo: reference, tag: 'latest' };
}

async function writeRootfs(rootfs: string, fillerBytes: number): Promise<void> {
  const { busybox } = await requireExecutables({ busybox: 'busybox-static' });
  await assertStatic(busybox);

  for (const folder of ['bin', 'etc', 'proc', 'sys', 'dev', 'root', 'var/www', 'tmp']) {
    await mkdir(join(rootfs, folder), { recursive: true });
  }
  await chmod(join(rootfs, 'tmp'), 0o1777);
  await copyFile(busybox, join(rootfs, 'bin/busybox'));
  await chmod(join(rootfs, 'bin/busybox'), 0o755);

  const { stdout } = await execFileAsync(busybox, ['--list']);
  for (const applet of stdout.split('\n').filter((name) => name && name !== 'busybox')) {
    await symlink('busybox', join(rootfs, 'bin', applet));
  }

  await writeFile(
    join(rootfs, 'etc/passwd'),
    'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n',
  );
  await writeFile(join(rootfs, 'etc/group'), 'root:x:0:\nnogroup:x:65534:\n');

  if (fillerBytes > 0) await writeFiller(join(rootfs, 'filler.bin'), fillerBytes);
}

async function writeFiller(path: string, size: number): Promise<void> {
  const file = await open(path, 'w');
  try {
    const chunkSize = 1 << 20;
    for (let written = 0; written < size; written += chunkSize) {
      await file.write(randomBytes(Math.min(chunkSize, size - written)));
    }
  } finally {
    await file.close();
  }
}

/** Rejects a dynamically linked busybox (Debian's `busybox` package), which cannot run in the empty rootfs. */
async function assertStatic(path: string): Promise<void> {
  const elf = await readFile(path);
  const programHeaderOffset = Number(elf.readBigUInt64LE(0x20));
  const entrySize = elf.readUInt16LE(0x36);
  const entryCount = elf.readUInt16LE(0x38);
  const PT_INTERP = 3;
  for (let i = 0; i < entryCount; i++) {
    if (elf.readUInt32LE(programHeaderOffset + i * entrySize) === PT_INTERP) {
      throw new Error(
        `${path} is dynamically linked; install Debian's busybox-static (apt-get install busybox-static)`,
      );
    }
  }
}
