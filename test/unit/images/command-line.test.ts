import assert from 'node:assert/strict';

import { formatCommandLine } from '../../../src/images/command-line.js';
import { isImagePublishError } from '../../../src/images/errors.js';

describe('os_command_line formatting', () => {
  const table: { command: string | string[] | undefined; line: string | undefined }[] = [
    { command: undefined, line: undefined },
    { command: [], line: undefined },
    { command: ['sleep', '3600'], line: 'sleep 3600' },
    { command: ['/bin/sh', '-c', 'echo hello; sleep 1'], line: "/bin/sh -c 'echo hello; sleep 1'" },
    { command: ['echo', "it's"], line: `echo 'it'"'"'s'` },
    { command: ['echo', ''], line: "echo ''" },
    { command: ['env', 'A=b,c', 'x@y:z/p.q%r+s'], line: 'env A=b,c x@y:z/p.q%r+s' },
    { command: 'nginx -g "daemon off;"', line: 'nginx -g "daemon off;"' },
  ];
  for (const row of table) {
    it(`formats ${JSON.stringify(row.command)}`, () => {
      assert.equal(formatCommandLine(row.command, 'nginx'), row.line);
    });
  }

  it('rejects a command longer than 255 characters', () => {
    assert.throws(
      () => formatCommandLine(['echo', 'x'.repeat(260)], 'nginx:latest'),
      (err: unknown) => {
        assert.ok(isImagePublishError(err, 'invalidCommand'));
        assert.match(err.message, /the command for image nginx:latest is 265 characters/);
        return true;
      },
    );
  });

  it('rejects a NUL character', () => {
    assert.throws(() => formatCommandLine(['a\u0000b'], 'nginx'), /NUL character/);
  });
});
