import assert from 'node:assert/strict';

import { CoreV1Api } from '@kubernetes/client-node';

import { createTestNamespace } from '../../support/containerinstance-crd.js';
import { useInstanceEnvironment } from './environment.js';
import { assertNoSecretsLogged } from './logs.js';
import { CLOUD_SECRET, condition, startScenario, type Scenario } from './scenario.js';

describe('ContainerInstance cloud Secrets', function () {
  this.timeout(300_000);
  let scenario: Scenario;
  let operatorNamespace: string;

  before(async function () {
    this.timeout(900_000);
    const env = await useInstanceEnvironment();
    // The default Secret lives in the operator's own namespace, which the
    // operator does not watch for ContainerInstances.
    operatorNamespace = await createTestNamespace(env.controlPlane, 'cinst-op');
    await env.controlPlane
      .kubeConfig()
      .makeApiClient(CoreV1Api)
      .createNamespacedSecret({
        namespace: operatorNamespace,
        body: {
          metadata: { name: 'default-cloud' },
          stringData: { 'clouds.yaml': env.cloud.cloudsYaml },
        },
      });
    scenario = await startScenario(env, 'cinst-clouds', {
      operatorArgs: ['--default-cloud-secret', `${operatorNamespace}/default-cloud`],
    });
  });

  after(async function () {
    this.timeout(120_000);
    await scenario?.cleanup();
  });

  it('uses a default Secret of another namespace', async function () {
    await scenario.create('by-default', {});
    const instance = await scenario.waitForReady('by-default', 240_000);
    assert.equal((await scenario.servers(instance)).length, 1);
  });

  it('uses the Secret named by spec.cloud', async function () {
    await scenario.create('by-spec', {
      cloud: { secretName: CLOUD_SECRET, cloudName: scenario.env.cloud.cloudName },
    });
    const instance = await scenario.waitForReady('by-spec', 240_000);
    assert.equal((await scenario.servers(instance)).length, 1);
  });

  it('stalls on a cloud name missing from clouds.yaml', async function () {
    await scenario.create('wrong-cloud', {
      cloud: { secretName: CLOUD_SECRET, cloudName: 'no-such-cloud' },
    });
    const instance = await scenario.waitFor(
      'wrong-cloud',
      'Stalled=True',
      (candidate) => condition(candidate, 'Stalled')?.status === 'True',
    );
    const entry = condition(instance, 'Stalled');
    assert.equal(entry?.reason, 'InvalidCloudConfig');
    assert.match(entry?.message ?? '', /no-such-cloud/);
    assert.match(entry?.message ?? '', new RegExp(`Secret ${scenario.namespace}/${CLOUD_SECRET}`));
  });

  it('recovers when the Secret is fixed', async function () {
    // Rewriting the Secret with the cloud renamed makes the stalled instance valid.
    const renamed = scenario.env.cloud.cloudsYaml.replace(
      new RegExp(`^  ${scenario.env.cloud.cloudName}:`, 'm'),
      '  no-such-cloud:',
    );
    assert.notEqual(
      renamed,
      scenario.env.cloud.cloudsYaml,
      'the cloud entry was not found to rename',
    );
    await scenario.updateSecret(CLOUD_SECRET, { 'clouds.yaml': renamed });
    const instance = await scenario.waitForReady('wrong-cloud', 240_000);
    assert.equal(condition(instance, 'Stalled')?.status, 'False');
  });

  describe('after the run', function () {
    it('logs no secret', async function () {
      await assertNoSecretsLogged(scenario);
    });
  });
});
