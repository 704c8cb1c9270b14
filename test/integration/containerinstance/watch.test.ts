import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { parse, stringify } from 'yaml';

import { CRD_FILE } from '../../../src/api/crd-yaml.js';
import { repoRoot } from '../../support/host-packages.js';
import { httpGet } from '../../support/operator-process.js';
import { waitFor } from '../../support/process.js';
import { makeStateDir, removeStateDir } from '../../support/state.js';
import { registerCleanup } from '../../support/hooks.js';
import { portOf } from '../../support/kube.js';
import { kubeConfigThrough, startTcpProxy, type TcpProxy } from '../../support/tcp-proxy.js';
import { useInstanceEnvironment } from './environment.js';
import { assertNoSecretsLogged } from './logs.js';
import { condition, startScenario, type Scenario } from './scenario.js';

/**
 * Applies the ContainerInstance CRD with one more printer column, or the
 * committed one when column is undefined. A change of the CRD spec makes
 * kube-apiserver rebuild the watch cache of the resource, so a watch that
 * resumes from an older resourceVersion gets 410 Gone.
 */
async function applyCrd(scenario: Scenario, column?: string): Promise<void> {
  const text = await readFile(join(repoRoot, CRD_FILE), 'utf8');
  let manifest = text;
  if (column !== undefined) {
    const crd = parse(text) as {
      spec: { versions: Array<{ additionalPrinterColumns?: Array<Record<string, unknown>> }> };
    };
    for (const version of crd.spec.versions) {
      version.additionalPrinterColumns = [
        ...(version.additionalPrinterColumns ?? []),
        { name: column, type: 'string', jsonPath: '.metadata.uid', priority: 1 },
      ];
    }
    manifest = stringify(crd);
  }
  await scenario.env.controlPlane.kubectl(
    ['apply', '--server-side', '--force-conflicts', '-f', '-'],
    {
      input: manifest,
    },
  );
}

/** Sums novadocker_watch_restarts_total of the ContainerInstance informer for one reason. */
async function watchRestarts(url: string, reason: string): Promise<number> {
  const { body } = await httpGet(`${url}/metrics`);
  return body
    .split('\n')
    .filter(
      (line) =>
        line.startsWith('novadocker_watch_restarts_total{') &&
        line.includes('informer="containerinstances"') &&
        line.includes(`reason="${reason}"`),
    )
    .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
}

describe('ContainerInstance watch interruptions', function () {
  this.timeout(300_000);
  let scenario: Scenario;
  let proxy: TcpProxy;

  before(async function () {
    this.timeout(900_000);
    const env = await useInstanceEnvironment();
    proxy = await startTcpProxy(portOf(env.controlPlane.server));
    const dir = await makeStateDir('cinst-watch');
    registerCleanup('watch test kubeconfig', () => removeStateDir(dir));
    const kubeconfigPath = join(dir, 'kubeconfig');
    await writeFile(
      kubeconfigPath,
      kubeConfigThrough(env.controlPlane.kubeConfig(), proxy.port).exportConfig(),
    );

    scenario = await startScenario(env, 'cinst-watch', {
      operatorArgs: ['--kubeconfig', kubeconfigPath],
    });
    await scenario.create('kept', { env: [{ name: 'ROUND', value: '0' }] });
    await scenario.create('removed', {});
    await scenario.waitForReady('kept', 240_000);
    await scenario.waitForReady('removed', 240_000);
  });

  after(async function () {
    this.timeout(120_000);
    proxy?.resume();
    await scenario?.cleanup();
  });

  describe('connection dropped', function () {
    it('sees a change made right after', async function () {
      proxy.dropConnections();
      await scenario.patchSpec('kept', { env: [{ name: 'ROUND', value: '1' }] });
      const instance = await scenario.waitForReady('kept');
      const env = await scenario.containerEnv(instance.status!.serverID!);
      assert.equal(env.ROUND, '1');
    });
  });

  describe('watch expired with 410 Gone', function () {
    let restartsBefore: number;

    before(async function () {
      const url = scenario.operators[0]!.url;
      restartsBefore = await watchRestarts(url, 'relist');
      proxy.refuse();
      await scenario.patchSpec('kept', { env: [{ name: 'ROUND', value: '2' }] });
      await scenario.delete('removed');
      await scenario.create('added', {});
      await applyCrd(scenario, `gone${Date.now()}`);
      proxy.resume();
      await applyCrd(scenario);
    });

    it('relists', async function () {
      await waitFor(
        'a relist of the ContainerInstance informer',
        async () => (await watchRestarts(scenario.operators[0]!.url, 'relist')) > restartsBefore,
        60_000,
      );
    });

    it('applies the change made meanwhile', async function () {
      const instance = await scenario.waitFor(
        'kept',
        'Ready with ROUND=2',
        (candidate) =>
          candidate.status?.observedGeneration === candidate.metadata.generation &&
          condition(candidate, 'Ready')?.status === 'True',
      );
      await waitFor(
        'the container to get ROUND=2',
        async () => (await scenario.containerEnv(instance.status!.serverID!)).ROUND === '2',
        60_000,
      );
    });

    it('finishes the deletion made meanwhile', async function () {
      await scenario.waitForGone('removed');
    });

    it('creates the instance added meanwhile', async function () {
      const instance = await scenario.waitForReady('added', 120_000);
      assert.equal((await scenario.servers(instance)).length, 1);
    });
  });

  describe('after the run', function () {
    it('logs no secret', async function () {
      await assertNoSecretsLogged(scenario);
    });
  });
});
