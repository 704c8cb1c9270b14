import assert from 'node:assert/strict';

import { ApiError } from '../../../src/devcloud/http/errors.js';
import { TokenService } from '../../../src/devcloud/keystone/tokens.js';
import { StateStore } from '../../../src/devcloud/state.js';
import { createLogger } from '../../../src/observability/logger.js';
import { makeStateDir, removeStateDir } from '../../support/state.js';

const identity = {
  userId: 'u',
  userName: 'operator',
  projectId: 'p',
  projectName: 'devcloud',
  domainId: 'default',
  domainName: 'Default',
  roles: ['member'],
  methods: ['password'],
};

const isUnauthorized = (err: unknown) => err instanceof ApiError && err.status === 401;

describe('dev cloud tokens', function () {
  let dir: string;
  let store: StateStore;

  beforeEach(async function () {
    dir = await makeStateDir('dctok');
    store = await StateStore.open(dir, createLogger({ level: 'silent' }));
  });

  afterEach(async function () {
    await store.flush();
    await removeStateDir(dir);
  });

  it('validates a fresh token', function () {
    const tokens = new TokenService(store, 60);
    const { token } = tokens.issue(identity);
    assert.equal(tokens.validate(token).userName, 'operator');
  });

  it('rejects an expired token', function () {
    const tokens = new TokenService(store, 60);
    tokens.setLifetime(0);
    const { token } = tokens.issue(identity);
    assert.throws(() => tokens.validate(token), isUnauthorized);
  });

  it('rejects a token with a changed payload', function () {
    const tokens = new TokenService(store, 60);
    const { token } = tokens.issue(identity);
    const [payload, signature] = token.slice(3).split('.');
    const changed = Buffer.from(
      JSON.stringify({
        ...JSON.parse(Buffer.from(payload!, 'base64url').toString()),
        roles: ['admin'],
      }),
    ).toString('base64url');
    assert.throws(() => tokens.validate(`dc1${changed}.${signature}`), isUnauthorized);
  });

  it('rejects a revoked token', function () {
    const tokens = new TokenService(store, 60);
    const { token, info } = tokens.issue(identity);
    tokens.revoke(info);
    assert.throws(() => tokens.validate(token), isUnauthorized);
  });

  it('accepts tokens after reopening the data folder', async function () {
    const { token } = new TokenService(store, 60).issue(identity);
    const reopened = await StateStore.open(dir, createLogger({ level: 'silent' }));
    assert.equal(new TokenService(reopened, 60).validate(token).projectId, 'p');
  });
});
