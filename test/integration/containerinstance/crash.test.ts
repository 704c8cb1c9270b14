import assert from 'node:assert/strict';

import type { ContainerInstance } from '../../../src/api/index.js';
import { EXIT_AFTER_CREATE_ENV } from '../../../src/containerinstance/index.js';
import { waitFor } from '../../support/process.js';
import { useInstanceEnvironment } from './environment.js';
import { assertNoSecretsLogged } from './logs.js';
import { startScenario, type Scenario } from './scenario.js';

describe('operator killed between create and status write', function () {
  this.timeout(300_000);
  let scenario: Scenario;
  let exit: number | string;
  let afterCrash: ContainerInstance;
  let serversAfterCrash: string[];
  let adopted: ContainerInstance;

  before(async function () {
    this.timeout(900_000);
    scenario = await startScenario(await useInstanceEnvironment(), 'cinst-crash', {
      noOperator: true,
    });
    const crashing = await scenario.startOperator('crashing', [], { [EXIT_AFTER_CREATE_ENV]: '1' });
    const created = await scenario.create('survivor', {});
    exit = await crashing.exited;

    afterCrash = (await scenario.get('survivor'))!;
    serversAfterCrash = (await scenario.servers(created)).map((server) => server.id);

    await scenario.startOperator('restarted');
    adopted = await scenario.waitForReady('survivor', 120_000);
  });

  after(async function () {
    this.timeout(120_000);
    await scenario?.cleanup();
  });

  it('kills the first operator with SIGKILL', function () {
    assert.equal(exit, 'SIGKILL');
  });

  it('leaves no server ID in status', function () {
    assert.equal(afterCrash.status?.serverID, undefined);
  });

  it('leaves one server behind', function () {
    assert.equal(serversAfterCrash.length, 1);
  });

  it('adopts that server', function () {
    assert.equal(adopted.status?.serverID, serversAfterCrash[0]);
  });

  it('keeps exactly one server', async function () {
    const servers = await scenario.servers(adopted);
    assert.deepEqual(
      servers.map((server) => server.id),
      serversAfterCrash,
    );
  });

  it('records an Adopted Event', async function () {
    const event = await scenario.waitForEvent('survivor', 'Adopted');
    assert.match(event.note ?? '', new RegExp(serversAfterCrash[0]!));
  });

  it('creates no second server later', async function () {
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const servers = await scenario.servers(adopted);
    assert.equal(servers.length, 1);
  });

  describe('two servers carry the tag', function () {
    let stalled: ContainerInstance;
    let extraID: string;

    before(async function () {
      // A second server with the same instance tag, as a buggy tool or a
      // restore from backup could leave behind.
      const [server] = await scenario.servers(adopted);
      const created = await scenario.env.cloud.client.compute.createServer({
        name: 'duplicate',
        imageRef: server!.imageId!,
        flavorRef: '1',
        networks: 'auto',
        tags: server!.tags,
      });
      extraID = created.id;
      stalled = await scenario.waitFor(
        'survivor',
        'Stalled=True',
        (instance) =>
          instance.status?.conditions?.some(
            (entry) => entry.type === 'Stalled' && entry.status === 'True',
          ) ?? false,
      );
    });

    after(async function () {
      await scenario.env.cloud.client.compute.deleteServer(extraID).catch(() => undefined);
    });

    it('stalls with reason DuplicateServers', function () {
      const entry = stalled.status?.conditions?.find((candidate) => candidate.type === 'Stalled');
      assert.equal(entry?.reason, 'DuplicateServers');
    });

    it('names both servers', function () {
      const entry = stalled.status?.conditions?.find((candidate) => candidate.type === 'Stalled');
      assert.match(entry?.message ?? '', new RegExp(extraID));
      assert.match(entry?.message ?? '', new RegExp(adopted.status!.serverID!));
    });

    it('deletes neither server', async function () {
      await new Promise((resolve) => setTimeout(resolve, 2000));
      const servers = await scenario.servers(adopted);
      assert.equal(servers.length, 2);
    });

    it('recovers once one is deleted', async function () {
      await scenario.env.cloud.client.compute.deleteServer(extraID);
      await waitFor(
        'the instance to be Ready again',
        async () => {
          const instance = await scenario.get('survivor');
          return (
            instance?.status?.conditions?.some(
              (entry) => entry.type === 'Ready' && entry.status === 'True',
            ) ?? false
          );
        },
        60_000,
      );
    });
  });

  describe('after the run', function () {
    it('logs no secret', async function () {
      await assertNoSecretsLogged(scenario);
    });
  });
});
