import assert from 'node:assert/strict';

import { imageProperty } from '../../../src/images/index.js';
import { waitFor } from '../../support/process.js';
import {
  pushUniqueImage,
  useInstanceEnvironment,
  type InstanceEnvironment,
} from './environment.js';
import { startScenario, type Scenario } from './scenario.js';

/** Lists the operator-owned Glance images that carry this digest. */
async function managedImagesOf(env: InstanceEnvironment, digest: string): Promise<string[]> {
  const images = await env.cloud.client.image.listImages({
    properties: { [imageProperty.managed]: 'true', [imageProperty.digest]: digest },
  });
  return images.map((image) => image.id);
}

describe('ContainerInstance image garbage collection', function () {
  this.timeout(300_000);
  let env: InstanceEnvironment;
  let scenario: Scenario;
  let digest: string;

  before(async function () {
    this.timeout(900_000);
    env = await useInstanceEnvironment();
    const image = await pushUniqueImage(env, 'gc');
    // Passes every second with a one-second grace period, so an image is
    // deleted within seconds of its last instance going away.
    scenario = await startScenario(env, 'cinst-gc', {
      operatorArgs: ['--image-gc-interval', '1s', '--image-gc-grace-period', '1s'],
    });
    await scenario.create('web', { image });
    const instance = await scenario.waitForReady('web', 240_000);
    digest = instance.status!.image!.digest!;
  });

  after(async function () {
    this.timeout(120_000);
    await scenario?.cleanup();
  });

  it('keeps the image while an instance uses it', async function () {
    // Several passes run in this time; the image must survive all of them.
    await new Promise((resolve) => setTimeout(resolve, 4_000));
    assert.equal((await managedImagesOf(env, digest)).length, 1);
  });

  it('deletes the image after its instance is gone', async function () {
    await scenario.delete('web');
    await scenario.waitForGone('web');
    await waitFor(
      `Glance image of ${digest} to be collected`,
      async () => (await managedImagesOf(env, digest)).length === 0,
      60_000,
      500,
    );
    assert.deepEqual(await managedImagesOf(env, digest), []);
  });
});
