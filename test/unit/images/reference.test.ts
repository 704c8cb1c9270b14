import assert from 'node:assert/strict';

import { isImagePublishError } from '../../../src/images/errors.js';
import {
  familiarName,
  formatImageReference,
  isLoopbackHost,
  loadedImageName,
  parseImageReference,
} from '../../../src/images/reference.js';

const digest = `sha256:${'0123456789abcdef'.repeat(4)}`;

describe('image reference parsing', () => {
  const valid: {
    input: string;
    registry: string;
    repository: string;
    tag?: string;
    digest?: string;
  }[] = [
    { input: 'nginx', registry: 'docker.io', repository: 'library/nginx', tag: 'latest' },
    { input: 'nginx:1.27', registry: 'docker.io', repository: 'library/nginx', tag: '1.27' },
    { input: 'library/nginx', registry: 'docker.io', repository: 'library/nginx', tag: 'latest' },
    { input: 'bitnami/redis:7.2', registry: 'docker.io', repository: 'bitnami/redis', tag: '7.2' },
    { input: 'docker.io/nginx', registry: 'docker.io', repository: 'library/nginx', tag: 'latest' },
    {
      input: 'index.docker.io/library/nginx:1',
      registry: 'docker.io',
      repository: 'library/nginx',
      tag: '1',
    },
    {
      input: 'quay.io/coreos/etcd:v3.5.0',
      registry: 'quay.io',
      repository: 'coreos/etcd',
      tag: 'v3.5.0',
    },
    { input: 'localhost/app', registry: 'localhost', repository: 'app', tag: 'latest' },
    { input: 'localhost:5000/app:dev', registry: 'localhost:5000', repository: 'app', tag: 'dev' },
    {
      input: '127.0.0.1:5000/team/app:1.0',
      registry: '127.0.0.1:5000',
      repository: 'team/app',
      tag: '1.0',
    },
    { input: '[::1]:5000/app', registry: '[::1]:5000', repository: 'app', tag: 'latest' },
    { input: 'Registry/app', registry: 'Registry', repository: 'app', tag: 'latest' },
    { input: 'a/b/c/d:x', registry: 'docker.io', repository: 'a/b/c/d', tag: 'x' },
    {
      input: 'my_team/my-app__x.y',
      registry: 'docker.io',
      repository: 'my_team/my-app__x.y',
      tag: 'latest',
    },
    { input: `nginx@${digest}`, registry: 'docker.io', repository: 'library/nginx', digest },
    {
      input: `nginx:1.27@${digest}`,
      registry: 'docker.io',
      repository: 'library/nginx',
      tag: '1.27',
      digest,
    },
    {
      input: `reg.example.com:443/a/b@${digest}`,
      registry: 'reg.example.com:443',
      repository: 'a/b',
      digest,
    },
  ];

  for (const row of valid) {
    it(`parses ${row.input}`, () => {
      const ref = parseImageReference(row.input);
      assert.equal(ref.registry, row.registry);
      assert.equal(ref.repository, row.repository);
      assert.equal(ref.tag, row.tag);
      assert.equal(ref.digest, row.digest);
    });
  }

  const invalid: { input: string; problem: RegExp }[] = [
    { input: '', problem: /empty/ },
    { input: ' nginx', problem: /whitespace/ },
    { input: 'Nginx', problem: /lowercase/ },
    { input: 'docker.io/Library/nginx', problem: /lowercase/ },
    { input: 'nginx:', problem: /tag ""/ },
    { input: 'nginx:-bad', problem: /tag "-bad"/ },
    { input: `nginx:${'x'.repeat(129)}`, problem: /tag/ },
    { input: 'nginx@sha256:abc', problem: /digest "sha256:abc" is malformed/ },
    { input: `nginx@sha256:${'A'.repeat(64)}`, problem: /lowercase hex/ },
    { input: `nginx@md5:${'a'.repeat(32)}`, problem: /not supported/ },
    { input: 'nginx@', problem: /digest "" is malformed/ },
    { input: 'a//b', problem: /path component ""/ },
    { input: 'a/b/', problem: /path component ""/ },
    { input: 'a-/b', problem: /path component "a-"/ },
    { input: 'reg-.io/app', problem: /registry host "reg-.io" is invalid/ },
    { input: 'reg.io:5000/', problem: /path component ""/ },
    { input: 'a'.repeat(64).replace(/a/g, 'f'), problem: /image ID/ },
    { input: `${'a'.repeat(250)}/bcdefgh`, problem: /longer than 255/ },
    { input: 'https://reg.io/app', problem: /invalid/ },
  ];

  for (const row of invalid) {
    it(`rejects ${JSON.stringify(row.input.slice(0, 40))}`, () => {
      assert.throws(
        () => parseImageReference(row.input),
        (err: unknown) => {
          assert.ok(
            isImagePublishError(err, 'invalidReference'),
            `expected invalidReference, got ${String(err)}`,
          );
          assert.match(err.message, row.problem);
          assert.equal(err.transient, false);
          return true;
        },
      );
    });
  }

  it('names the input in the error', () => {
    assert.throws(() => parseImageReference('Bad:Name'), /invalid image reference "Bad:Name"/);
  });
});

describe('image reference names', () => {
  const names: { input: string; formatted: string; familiar: string; loaded: string }[] = [
    {
      input: 'nginx',
      formatted: 'docker.io/library/nginx:latest',
      familiar: 'nginx',
      loaded: 'nginx:latest-sha256-0123456789ab',
    },
    {
      input: 'bitnami/redis:7',
      formatted: 'docker.io/bitnami/redis:7',
      familiar: 'bitnami/redis',
      loaded: 'bitnami/redis:7-sha256-0123456789ab',
    },
    {
      input: 'docker.io/library/a/b:1',
      formatted: 'docker.io/library/a/b:1',
      familiar: 'library/a/b',
      loaded: 'library/a/b:1-sha256-0123456789ab',
    },
    {
      input: '127.0.0.1:5000/team/app:1.0',
      formatted: '127.0.0.1:5000/team/app:1.0',
      familiar: '127.0.0.1:5000/team/app',
      loaded: '127.0.0.1:5000/team/app:1.0-sha256-0123456789ab',
    },
    {
      input: `127.0.0.1:5000/team/app@${digest}`,
      formatted: `127.0.0.1:5000/team/app@${digest}`,
      familiar: '127.0.0.1:5000/team/app',
      loaded: '127.0.0.1:5000/team/app:sha256-0123456789ab',
    },
    {
      input: `nginx:1.27@${digest}`,
      formatted: `docker.io/library/nginx:1.27@${digest}`,
      familiar: 'nginx',
      loaded: 'nginx:1.27-sha256-0123456789ab',
    },
  ];

  for (const row of names) {
    it(`names ${row.input.slice(0, 50)}`, () => {
      const ref = parseImageReference(row.input);
      assert.equal(formatImageReference(ref), row.formatted);
      assert.equal(familiarName(ref), row.familiar);
      assert.equal(loadedImageName(ref, digest), row.loaded);
    });
  }

  it('keeps loaded tags within 128 characters', () => {
    const ref = parseImageReference(`app:${'t'.repeat(128)}`);
    const tag = loadedImageName(ref, digest).split(':')[1]!;
    assert.equal(tag.length, 128);
    assert.match(tag, /-sha256-0123456789ab$/);
  });

  it('formats a reference that parses back equal', () => {
    for (const row of names) {
      const ref = parseImageReference(row.input);
      assert.deepEqual(parseImageReference(formatImageReference(ref)), ref);
    }
  });
});

describe('loopback hosts', () => {
  for (const host of ['localhost', 'localhost:5000', '127.0.0.1', '127.1.2.3:80', '[::1]:5000']) {
    it(`treats ${host} as loopback`, () => assert.equal(isLoopbackHost(host), true));
  }
  for (const host of ['10.0.0.1:5000', 'registry.local', '128.0.0.1', 'localhost.example.com']) {
    it(`treats ${host} as remote`, () => assert.equal(isLoopbackHost(host), false));
  }
});
