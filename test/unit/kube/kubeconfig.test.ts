import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { loadKubeConfig } from '../../../src/kube/kubeconfig.js';

function kubeconfigYaml(
  cluster: string,
  server: string,
  currentContext: string | undefined,
): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    `clusters: [{name: ${cluster}, cluster: {server: "${server}"}}]`,
    `users: [{name: ${cluster}-user, user: {token: not-a-real-token}}]`,
    `contexts: [{name: ${cluster}, context: {cluster: ${cluster}, user: ${cluster}-user}}]`,
    currentContext ? `current-context: ${currentContext}` : '',
  ].join('\n');
}

describe('kubeconfig loading', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ndo-kubeconfig-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('prefers the --kubeconfig file', async () => {
    const flag = join(dir, 'flag');
    const env = join(dir, 'env');
    await writeFile(flag, kubeconfigYaml('flag', 'https://127.0.0.1:1001', 'flag'));
    await writeFile(env, kubeconfigYaml('env', 'https://127.0.0.1:1002', 'env'));

    const loaded = loadKubeConfig({ kubeconfig: flag, env: { KUBECONFIG: env }, home: dir });

    assert.equal(loaded.source, 'flag');
    assert.equal(loaded.server, 'https://127.0.0.1:1001');
  });

  it('merges KUBECONFIG files, first context wins', async () => {
    const first = join(dir, 'first');
    const second = join(dir, 'second');
    await writeFile(first, kubeconfigYaml('one', 'https://127.0.0.1:1001', undefined));
    await writeFile(second, kubeconfigYaml('two', 'https://127.0.0.1:1002', 'two'));

    const loaded = loadKubeConfig({
      env: { KUBECONFIG: `${first}:${join(dir, 'missing')}:${second}` },
      home: dir,
    });

    assert.equal(loaded.source, 'KUBECONFIG');
    assert.equal(loaded.server, 'https://127.0.0.1:1002');
    assert.equal(loaded.kubeConfig.getClusters().length, 2);
  });

  it('falls back to ~/.kube/config', async () => {
    await mkdir(join(dir, '.kube'));
    await writeFile(
      join(dir, '.kube', 'config'),
      kubeconfigYaml('home', 'https://127.0.0.1:1003', 'home'),
    );

    const loaded = loadKubeConfig({ env: {}, home: dir });

    assert.equal(loaded.source, 'home');
    assert.equal(loaded.server, 'https://127.0.0.1:1003');
  });

  it('names each place when none exists', () => {
    assert.throws(
      () => loadKubeConfig({ env: {}, home: dir }),
      /no Kubernetes configuration found: --kubeconfig is not set, KUBECONFIG is empty.*pass --kubeconfig PATH/,
    );
  });

  it('rejects a missing --kubeconfig file', () => {
    assert.throws(
      () => loadKubeConfig({ kubeconfig: join(dir, 'nope'), env: {} }),
      /kubeconfig file ".*nope" does not exist/,
    );
  });

  it('rejects a kubeconfig without current context', async () => {
    const file = join(dir, 'nocontext');
    await writeFile(file, kubeconfigYaml('one', 'https://127.0.0.1:1001', undefined));
    assert.throws(
      () => loadKubeConfig({ kubeconfig: file, env: {} }),
      /has no cluster for its current context/,
    );
  });
});
