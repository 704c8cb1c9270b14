import assert from 'node:assert/strict';

import { HttpMethod, KubeConfig, RequestContext } from '@kubernetes/client-node';

import { shareDispatchers } from '../../../src/kube/dispatcher-cache.js';

/** A kubeconfig with inline TLS data, so client-node builds an undici Agent per request. */
function tlsKubeConfig(clientKey: string): KubeConfig {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [
      {
        name: 'test',
        server: 'https://127.0.0.1:6443',
        caData: Buffer.from('ca-bundle').toString('base64'),
      },
    ],
    users: [
      {
        name: 'admin',
        certData: Buffer.from('client-cert').toString('base64'),
        keyData: Buffer.from(clientKey).toString('base64'),
      },
    ],
    contexts: [{ name: 'test', cluster: 'test', user: 'admin' }],
    currentContext: 'test',
  });
  return kubeConfig;
}

async function dispatcherOf(kubeConfig: KubeConfig) {
  const context = new RequestContext('https://127.0.0.1:6443/api', HttpMethod.GET);
  await kubeConfig.applySecurityAuthentication(context);
  return context.getDispatcher();
}

describe('dispatcher cache', () => {
  it('builds a new dispatcher per request without it', async () => {
    const kubeConfig = tlsKubeConfig('key-1');
    const first = await dispatcherOf(kubeConfig);
    assert.notEqual(first, undefined);
    assert.notEqual(await dispatcherOf(kubeConfig), first);
  });

  it('shares one dispatcher for the same TLS settings', async () => {
    const kubeConfig = tlsKubeConfig('key-1');
    shareDispatchers(kubeConfig);
    const first = await dispatcherOf(kubeConfig);
    assert.notEqual(first, undefined);
    assert.equal(await dispatcherOf(kubeConfig), first);
  });

  it('builds a new dispatcher after the key rotates', async () => {
    const kubeConfig = tlsKubeConfig('key-1');
    shareDispatchers(kubeConfig);
    const before = await dispatcherOf(kubeConfig);
    (kubeConfig.users[0] as { keyData?: string }).keyData = Buffer.from('key-2').toString('base64');
    assert.notEqual(await dispatcherOf(kubeConfig), before);
  });
});
