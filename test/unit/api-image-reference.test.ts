import assert from 'node:assert/strict';

import { hasValidDigest, isImageReference } from '../../src/api/image-reference.js';

const digest = `sha256:${'0123456789abcdef'.repeat(4)}`;

const valid = [
  'nginx',
  'nginx:1.27',
  'library/nginx:latest',
  'docker.io/library/nginx:1.27-alpine',
  'localhost:5000/web',
  '127.0.0.1:5000/team/web:v1',
  'registry.example.com:5000/team/sub/web:1.4.2',
  `nginx@${digest}`,
  `registry.example.com/web:1.0@${digest}`,
  'my_org/web__app:TAG_1.0',
  'a-b--c/d.e:_x',
];

const invalid = [
  '',
  'Nginx',
  'registry.example.com/Team/web',
  'https://registry.example.com/web',
  'nginx:',
  'nginx:1 27',
  ':latest',
  'web/',
  '/web',
  'web//app',
  'web:-tag',
  `web:${'t'.repeat(129)}`,
  'nginx@sha256:abc',
  `nginx@sha512:${'0'.repeat(128)}`,
  `nginx@${digest.toUpperCase()}`,
  '-registry.example.com/web',
  `registry.example.com/${'a'.repeat(240)}:1`,
];

describe('image reference grammar', () => {
  for (const reference of valid) {
    it(`accepts ${reference}`, () => {
      assert.equal(isImageReference(reference), true);
    });
  }

  for (const reference of invalid) {
    it(`rejects ${JSON.stringify(reference.length > 40 ? `${reference.slice(0, 40)}...` : reference)}`, () => {
      assert.equal(isImageReference(reference), false);
    });
  }

  it('digest check ignores references without digest', () => {
    assert.equal(hasValidDigest('nginx:1.27'), true);
  });

  it('digest check rejects a short digest', () => {
    assert.equal(hasValidDigest('nginx@sha256:abc'), false);
  });
});
