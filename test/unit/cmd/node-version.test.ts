import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const mainScript = fileURLToPath(new URL('../../../src/main.js', import.meta.url));

// Debian bookworm's own Node.js is 20; where it is installed, it shows what a
// user who runs the command with it sees.
const systemNode = '/usr/bin/node';

describe('command on old Node.js', () => {
  it('names the required version', function () {
    if (!existsSync(systemNode)) this.skip();
    const version = spawnSync(systemNode, ['-p', 'process.versions.node'], { encoding: 'utf8' });
    const [major = 0, minor = 0] = version.stdout.trim().split('.').map(Number);
    if (major > 22 || (major === 22 && minor >= 19)) this.skip();

    const result = spawnSync(systemNode, [mainScript, '--help'], { encoding: 'utf8' });
    assert.equal(result.status, 1);
    assert.match(result.stderr, /needs Node\.js 22\.19\.0 or newer, but this is /);
    assert.match(result.stderr, /hack\/ensure-node\.sh/);
  });
});
