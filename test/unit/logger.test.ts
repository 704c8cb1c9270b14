import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';

import { createLogger } from '../../src/observability/logger.js';

function capture(): { stream: PassThrough; lines: () => Record<string, unknown>[] } {
  const stream = new PassThrough();
  const chunks: string[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk.toString()));
  return {
    stream,
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

describe('logger', () => {
  it('writes one JSON line with a string level', () => {
    const out = capture();
    createLogger({}, out.stream).info({ namespace: 'ns', name: 'web' }, 'reconciled');
    const [line] = out.lines();
    assert.equal(line?.level, 'info');
    assert.equal(line?.namespace, 'ns');
    assert.equal(line?.msg, 'reconciled');
  });

  it('keeps name for the object', () => {
    const out = capture();
    createLogger({ name: 'devcloud' }, out.stream).info({ name: 'web' }, 'reconciled');
    const [line] = out.lines();
    assert.equal(line?.name, 'web');
    assert.equal(line?.logger, 'devcloud');
  });

  it('redacts passwords and tokens', () => {
    const out = capture();
    createLogger({}, out.stream).info(
      {
        password: 'hunter2',
        auth: { token: 'gAAAA-token' },
        headers: { authorization: 'Bearer x' },
      },
      'auth',
    );
    const text = JSON.stringify(out.lines());
    assert.doesNotMatch(text, /hunter2/);
    assert.doesNotMatch(text, /gAAAA-token/);
    assert.doesNotMatch(text, /Bearer x/);
  });
});
