import assert from 'node:assert/strict';

import { createLogger } from '../../../src/observability/logger.js';
import type { FlavorRecord, ServerRecord } from '../../../src/devcloud/model.js';
import { QuotaService } from '../../../src/devcloud/quotas.js';
import { StateStore } from '../../../src/devcloud/state.js';
import { ApiError } from '../../../src/devcloud/http/errors.js';
import { makeStateDir, removeStateDir } from '../../support/state.js';

const flavor: FlavorRecord = {
  id: 'f',
  name: 'f',
  ram: 1024,
  vcpus: 2,
  disk: 1,
  ephemeral: 0,
  swap: 0,
  description: null,
};

describe('dev cloud quota checks', function () {
  let dir: string;
  let store: StateStore;

  beforeEach(async function () {
    dir = await makeStateDir('dcq');
    store = await StateStore.open(dir, createLogger({ level: 'silent' }));
    store.data.servers.s1 = {
      id: 's1',
      projectId: 'p',
      flavorId: 'f',
      deletedAt: null,
    } as ServerRecord;
    store.data.servers.gone = {
      id: 'gone',
      projectId: 'p',
      flavorId: 'f',
      deletedAt: '2024-01-01T00:00:00Z',
    } as ServerRecord;
  });

  afterEach(async function () {
    await store.flush();
    await removeStateDir(dir);
  });

  const refusal = (quotas: QuotaService): string => {
    try {
      quotas.checkCreate('p', flavor);
    } catch (err) {
      assert.ok(err instanceof ApiError);
      assert.equal(err.status, 403);
      return err.message;
    }
    return 'not refused';
  };

  it('counts servers that are not deleted', function () {
    const quotas = new QuotaService({ instances: 10, cores: 20, ram: 4096 }, store, () => flavor);
    assert.deepEqual(quotas.usage('p'), { instances: 1, cores: 2, ram: 1024 });
  });

  it('names every resource over its limit', function () {
    const quotas = new QuotaService({ instances: 10, cores: 3, ram: 1500 }, store, () => flavor);
    assert.equal(
      refusal(quotas),
      'Quota exceeded for cores, ram: Requested 2, 1024, but already used 2, 1024 of 3, 1500 cores, ram',
    );
  });

  it('treats -1 as unlimited', function () {
    const quotas = new QuotaService({ instances: -1, cores: -1, ram: -1 }, store, () => flavor);
    assert.equal(refusal(quotas), 'not refused');
  });

  it('prefers project limits over defaults', function () {
    const quotas = new QuotaService({ instances: 10, cores: 20, ram: 51200 }, store, () => flavor);
    quotas.setProjectLimits('p', { instances: 1 });
    assert.equal(
      refusal(quotas),
      'Quota exceeded for instances: Requested 1, but already used 1 of 1 instances',
    );
  });

  it('rejects a fractional limit', function () {
    const quotas = new QuotaService({ instances: 10, cores: 20, ram: 51200 }, store, () => flavor);
    assert.throws(() => quotas.setProjectLimits('p', { ram: 1.5 }), /invalid quota ram=1\.5/);
  });
});
