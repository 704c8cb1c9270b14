import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';

import type { Logger } from '../observability/logger.js';
import type { QuotaLimits } from './config.js';
import type { ImageRecord, PortRecord, ServerRecord } from './model.js';

/** The mutable state that survives a restart. */
export interface PersistedState {
  version: 1;
  servers: Record<string, ServerRecord>;
  images: Record<string, ImageRecord>;
  ports: Record<string, PortRecord>;
  /** Quota overrides per project ID, set through the admin endpoint. */
  projectQuotas: Record<string, Partial<QuotaLimits>>;
  /** Audit IDs of revoked tokens with their expiry, so revocation outlives a restart. */
  revokedTokens: Record<string, string>;
}

/** How long a deleted server stays visible to changes-since queries, in milliseconds. */
export const deletedServerRetentionMs = 60 * 60 * 1000;

/** How long to gather changes before writing state.json, in milliseconds. */
const writeDelayMs = 100;

function emptyState(): PersistedState {
  return { version: 1, servers: {}, images: {}, ports: {}, projectQuotas: {}, revokedTokens: {} };
}

/**
 * Keeps the dev cloud's state in memory and writes it to <dataDir>/state.json
 * shortly after each change (write to a temporary file, then rename, so a crash
 * never leaves a half-written file). Image data lives beside it in images/.
 */
export class StateStore {
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  private dirty = false;

  private constructor(
    readonly dataDir: string,
    readonly data: PersistedState,
    readonly tokenKey: Buffer,
    private readonly log: Logger,
  ) {}

  /**
   * Opens the data folder, creating it and a token signing key when missing.
   * Throws when state.json exists but cannot be parsed, naming the file, rather than starting empty.
   */
  static async open(dataDir: string, log: Logger): Promise<StateStore> {
    await mkdir(path.join(dataDir, 'images'), { recursive: true, mode: 0o700 });
    const statePath = path.join(dataDir, 'state.json');
    let data = emptyState();
    try {
      const parsed = JSON.parse(await readFile(statePath, 'utf8')) as PersistedState;
      if (parsed.version !== 1) {
        throw new Error(`unsupported state version ${String(parsed.version)}`);
      }
      data = { ...emptyState(), ...parsed };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw new Error(
          `cannot load dev cloud state from ${statePath}: ${(err as Error).message}; ` +
            'move the file away to start with an empty cloud',
          { cause: err },
        );
      }
    }

    const keyPath = path.join(dataDir, 'token-key');
    let tokenKey: Buffer;
    try {
      tokenKey = await readFile(keyPath);
    } catch {
      tokenKey = randomBytes(32);
      await writeFile(keyPath, tokenKey, { mode: 0o600 });
    }
    return new StateStore(dataDir, data, tokenKey, log);
  }

  /** Path of an image's data file in the local image store. */
  imagePath(imageId: string): string {
    return path.join(this.dataDir, 'images', imageId);
  }

  /** Schedules a write of the current state. */
  markDirty(): void {
    this.dirty = true;
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, writeDelayMs);
  }

  /** Writes pending changes now; resolves once state.json is on disk. Write errors are logged, not thrown. */
  async flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.writing = this.writing.then(async () => {
      if (!this.dirty) return;
      this.dirty = false;
      this.pruneDeleted();
      const target = path.join(this.dataDir, 'state.json');
      const temporary = `${target}.${process.pid}.tmp`;
      try {
        await writeFile(temporary, JSON.stringify(this.data), { mode: 0o600 });
        await rename(temporary, target);
      } catch (err) {
        this.dirty = true;
        this.log.error(
          { err, path: target },
          'failed to write dev cloud state; will retry on the next change',
        );
      }
    });
    await this.writing;
  }

  private pruneDeleted(): void {
    const cutoff = Date.now() - deletedServerRetentionMs;
    for (const [id, server] of Object.entries(this.data.servers)) {
      if (server.deletedAt && Date.parse(server.deletedAt) < cutoff) delete this.data.servers[id];
    }
    const now = Date.now();
    for (const [auditId, expires] of Object.entries(this.data.revokedTokens)) {
      if (Date.parse(expires) < now) delete this.data.revokedTokens[auditId];
    }
  }
}
