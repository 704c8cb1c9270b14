import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { repoRoot } from '../../support/host-packages.js';
import { isRunning } from '../../support/process.js';
import { makeStateDir, removeStateDir } from '../../support/state.js';

/** Returns whether the process runs; a zombie (exited, not yet reaped by its new parent) counts as stopped. */
async function isAlive(pid: number): Promise<boolean> {
  if (!isRunning(pid)) return false;
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

describe('harness teardown', function () {
  this.timeout(300_000);

  it('stops every server after run', async function () {
    const dir = await makeStateDir('teardown');
    const pidsFile = join(dir, 'pids.json');
    try {
      const child = spawn(
        process.execPath,
        [
          join(repoRoot, 'node_modules/mocha/bin/mocha.js'),
          '--config',
          join(repoRoot, '.mocharc.json'),
          join(repoRoot, 'dist/test/integration/harness/fixtures/start-every-server.js'),
        ],
        {
          cwd: repoRoot,
          env: { ...process.env, NDO_TEARDOWN_PIDS_FILE: pidsFile },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let output = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
      const [code] = (await once(child, 'close')) as [number | null];

      assert.equal(code, 0, `the fixture run failed:\n${output}`);
      const pids = JSON.parse(await readFile(pidsFile, 'utf8')) as Record<string, number>;
      assert.equal(Object.keys(pids).length, 7);
      for (const [name, pid] of Object.entries(pids)) {
        assert.equal(
          await isAlive(pid),
          false,
          `${name} (PID ${pid}) still runs after the mocha run ended`,
        );
      }
    } finally {
      await removeStateDir(dir);
    }
  });
});
