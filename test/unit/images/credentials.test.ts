import assert from 'node:assert/strict';

import { credentialsForImage, type PullSecret } from '../../../src/images/credentials.js';
import { isImagePublishError } from '../../../src/images/errors.js';
import { parseImageReference } from '../../../src/images/reference.js';

function base64(text: string): string {
  return Buffer.from(text).toString('base64');
}

function dockerConfigSecret(name: string, auths: Record<string, unknown>): PullSecret {
  return {
    metadata: { namespace: 'apps', name },
    type: 'kubernetes.io/dockerconfigjson',
    data: { '.dockerconfigjson': base64(JSON.stringify({ auths })) },
  };
}

function usersFor(reference: string, secrets: PullSecret[]): string[] {
  return credentialsForImage(parseImageReference(reference), secrets).map((c) => c.username);
}

describe('dockerconfigjson credential matching', () => {
  const table: { key: string; reference: string; matches: boolean }[] = [
    { key: 'reg.example.com', reference: 'reg.example.com/team/app', matches: true },
    { key: 'https://reg.example.com', reference: 'reg.example.com/team/app', matches: true },
    { key: 'http://reg.example.com/', reference: 'reg.example.com/team/app', matches: true },
    { key: 'https://reg.example.com/v2/', reference: 'reg.example.com/team/app', matches: true },
    { key: 'https://reg.example.com/v1/', reference: 'reg.example.com/app', matches: true },
    { key: 'REG.example.com', reference: 'reg.example.com/app', matches: true },
    { key: 'reg.example.com/team', reference: 'reg.example.com/team/app', matches: true },
    { key: 'reg.example.com/team', reference: 'reg.example.com/teams/app', matches: false },
    { key: 'reg.example.com/team/app', reference: 'reg.example.com/team/app:1', matches: true },
    { key: 'reg.example.com/other', reference: 'reg.example.com/team/app', matches: false },
    { key: 'reg.example.com:5000', reference: 'reg.example.com:5000/app', matches: true },
    { key: 'reg.example.com:5000', reference: 'reg.example.com/app', matches: false },
    { key: 'reg.example.com', reference: 'reg.example.com:5000/app', matches: false },
    { key: '127.0.0.1:5000', reference: '127.0.0.1:5000/test/private:1.0', matches: true },
    { key: '*.example.com', reference: 'reg.example.com/app', matches: true },
    { key: '*.example.com', reference: 'a.reg.example.com/app', matches: false },
    { key: 'reg?.example.com', reference: 'reg1.example.com/app', matches: true },
    { key: 'example.com', reference: 'reg.example.com/app', matches: false },
    { key: 'docker.io', reference: 'nginx', matches: true },
    { key: 'https://index.docker.io/v1/', reference: 'nginx', matches: true },
    { key: 'index.docker.io', reference: 'bitnami/redis', matches: true },
    { key: 'registry-1.docker.io', reference: 'docker.io/library/nginx', matches: true },
    { key: 'docker.io/bitnami', reference: 'bitnami/redis', matches: true },
    { key: 'docker.io/bitnami', reference: 'nginx', matches: false },
    { key: 'https://index.docker.io/v1/', reference: 'quay.io/app', matches: false },
    { key: 'quay.io', reference: 'nginx', matches: false },
  ];

  for (const row of table) {
    it(`${row.matches ? 'matches' : 'skips'} key ${row.key} for ${row.reference}`, () => {
      const secret = dockerConfigSecret('regcred', {
        [row.key]: { username: 'user', password: 'pw' },
      });
      assert.deepEqual(usersFor(row.reference, [secret]), row.matches ? ['user'] : []);
    });
  }

  it('decodes the auth field', () => {
    const secret = dockerConfigSecret('regcred', { 'reg.io': { auth: base64('alice:pa:ss') } });
    const [credential] = credentialsForImage(parseImageReference('reg.io/app'), [secret]);
    assert.equal(credential?.username, 'alice');
    assert.equal(credential?.password, 'pa:ss');
  });

  it('prefers auth over username and password', () => {
    const secret = dockerConfigSecret('regcred', {
      'reg.io': { auth: base64('from-auth:x'), username: 'from-fields', password: 'y' },
    });
    assert.deepEqual(usersFor('reg.io/app', [secret]), ['from-auth']);
  });

  it('orders the most specific path first', () => {
    const secret = dockerConfigSecret('regcred', {
      'reg.io': { username: 'host-wide', password: 'x' },
      'reg.io/team/app': { username: 'repository', password: 'x' },
      'reg.io/team': { username: 'team', password: 'x' },
    });
    assert.deepEqual(usersFor('reg.io/team/app', [secret]), ['repository', 'team', 'host-wide']);
  });

  it('keeps secret order for equal keys', () => {
    const first = dockerConfigSecret('first', { 'reg.io': { username: 'one', password: 'x' } });
    const second = dockerConfigSecret('second', { 'reg.io': { username: 'two', password: 'x' } });
    assert.deepEqual(usersFor('reg.io/app', [first, second]), ['one', 'two']);
  });

  it('names the secret and key as source', () => {
    const secret = dockerConfigSecret('regcred', {
      'https://reg.io/v2/': { username: 'u', password: 'p' },
    });
    const [credential] = credentialsForImage(parseImageReference('reg.io/app'), [secret]);
    assert.equal(credential?.source, 'apps/regcred (https://reg.io/v2/)');
  });

  it('reads legacy dockercfg secrets', () => {
    const secret: PullSecret = {
      metadata: { namespace: 'apps', name: 'old' },
      type: 'kubernetes.io/dockercfg',
      data: {
        '.dockercfg': base64(JSON.stringify({ 'reg.io': { username: 'legacy', password: 'x' } })),
      },
    };
    assert.deepEqual(usersFor('reg.io/app', [secret]), ['legacy']);
  });

  it('skips entries with only an identity token', () => {
    const secret = dockerConfigSecret('regcred', { 'reg.io': { identitytoken: 'refresh' } });
    assert.deepEqual(usersFor('reg.io/app', [secret]), []);
  });

  it('skips a key that is not a registry', () => {
    const secret = dockerConfigSecret('regcred', {
      'not a host!': { username: 'broken', password: 'x' },
      'reg.io': { username: 'good', password: 'x' },
    });
    assert.deepEqual(usersFor('reg.io/app', [secret]), ['good']);
  });

  it('accepts an empty auths object', () => {
    const secret = dockerConfigSecret('regcred', {});
    assert.deepEqual(usersFor('reg.io/app', [secret]), []);
  });
});

describe('dockerconfigjson secret validation', () => {
  const password = 'S3cret-Value';
  const invalid: { name: string; secret: PullSecret; problem: RegExp }[] = [
    {
      name: 'missing key',
      secret: {
        metadata: { namespace: 'apps', name: 'bad' },
        type: 'kubernetes.io/dockerconfigjson',
        data: {},
      },
      problem: /apps\/bad is invalid: it has no \.dockerconfigjson key/,
    },
    {
      name: 'not JSON',
      secret: {
        metadata: { namespace: 'apps', name: 'bad' },
        type: 'kubernetes.io/dockerconfigjson',
        data: { '.dockerconfigjson': base64(`{"auths": {"reg.io": {"password": "${password}"`) },
      },
      problem: /not base64-encoded JSON/,
    },
    {
      name: 'wrong type',
      secret: {
        metadata: { namespace: 'apps', name: 'bad' },
        type: 'Opaque',
        data: { password: base64(password) },
      },
      problem: /its type is "Opaque"/,
    },
    {
      name: 'auth without colon',
      secret: dockerConfigSecret('bad', { 'reg.io': { auth: base64(password) } }),
      problem: /"auth" field of apps\/bad \(reg\.io\)/,
    },
    {
      name: 'auths not an object',
      secret: {
        metadata: { namespace: 'apps', name: 'bad' },
        type: 'kubernetes.io/dockerconfigjson',
        data: { '.dockerconfigjson': base64(JSON.stringify({ auths: ['reg.io'] })) },
      },
      problem: /"auths" is not an object/,
    },
  ];

  for (const row of invalid) {
    it(`rejects ${row.name} without leaking it`, () => {
      assert.throws(
        () => credentialsForImage(parseImageReference('reg.io/app'), [row.secret]),
        (err: unknown) => {
          assert.ok(
            isImagePublishError(err, 'invalidPullSecret'),
            `expected invalidPullSecret, got ${String(err)}`,
          );
          assert.match(err.message, row.problem);
          assert.doesNotMatch(err.message, new RegExp(password));
          assert.doesNotMatch(err.message, new RegExp(base64(password)));
          return true;
        },
      );
    });
  }
});
