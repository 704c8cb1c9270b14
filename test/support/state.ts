import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Unix socket paths are limited to 108 bytes on Linux, and dockerd and
 * containerd put sockets a few levels below their state folder, so state
 * folders live under a short temp root.
 */
const MAX_TEMP_ROOT_LENGTH = 40;

/** Set KEEP_TEST_STATE=1 to keep every server's state folder and logs after the run. */
export const keepTestState = process.env.KEEP_TEST_STATE === '1';

/**
 * Creates a fresh, private state folder for one server, named
 * `<temp>/ndo-<prefix>-XXXXXX`. Uses /tmp when TMPDIR is too long for unix sockets.
 */
export async function makeStateDir(prefix: string): Promise<string> {
  const root = tmpdir().length <= MAX_TEMP_ROOT_LENGTH ? tmpdir() : '/tmp';
  return mkdtemp(join(root, `ndo-${prefix}-`));
}

/**
 * Removes a state folder after its server stopped, unless KEEP_TEST_STATE=1.
 * A failure (for example a mount dockerd left behind) is reported on stderr,
 * not thrown, so the remaining cleanups still run.
 */
export async function removeStateDir(dir: string): Promise<void> {
  if (keepTestState) return;
  try {
    await rm(dir, { recursive: true, force: true, maxRetries: 3 });
  } catch (err) {
    console.error(`could not remove test state folder ${dir}: ${String(err)}; remove it by hand`);
  }
}

/** Returns the last lines of a log file for an error message, or a note when it cannot be read. */
export async function logTail(path: string, lines = 20): Promise<string> {
  try {
    const text = await readFile(path, 'utf8');
    return text.trimEnd().split('\n').slice(-lines).join('\n');
  } catch (err) {
    return `(log ${path} unreadable: ${String(err)})`;
  }
}
