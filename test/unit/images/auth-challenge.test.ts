import assert from 'node:assert/strict';

import { parseAuthChallenges } from '../../../src/images/auth-challenge.js';

describe('WWW-Authenticate parsing', () => {
  it('parses a Docker Hub bearer challenge', () => {
    const [challenge] = parseAuthChallenges(
      'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull"',
    );
    assert.equal(challenge?.scheme, 'bearer');
    assert.equal(challenge?.params.realm, 'https://auth.docker.io/token');
    assert.equal(challenge?.params.service, 'registry.docker.io');
    assert.equal(challenge?.params.scope, 'repository:library/nginx:pull');
  });

  it('parses a basic challenge', () => {
    assert.deepEqual(parseAuthChallenges('Basic realm="Registry Realm"'), [
      { scheme: 'basic', params: { realm: 'Registry Realm' } },
    ]);
  });

  it('parses several challenges in one value', () => {
    const challenges = parseAuthChallenges(
      'Basic realm="a", Bearer realm="https://t.example/token", service=reg',
    );
    assert.deepEqual(
      challenges.map((c) => c.scheme),
      ['basic', 'bearer'],
    );
    assert.equal(challenges[1]?.params.service, 'reg');
  });

  it('unescapes quoted pairs and lowercases names', () => {
    const [challenge] = parseAuthChallenges(
      'BEARER Realm="https://t.example/\\"x\\"", error="insufficient_scope"',
    );
    assert.equal(challenge?.scheme, 'bearer');
    assert.equal(challenge?.params.realm, 'https://t.example/"x"');
    assert.equal(challenge?.params.error, 'insufficient_scope');
  });

  it('returns nothing for a missing header', () => {
    assert.deepEqual(parseAuthChallenges(null), []);
    assert.deepEqual(parseAuthChallenges(''), []);
  });
});
