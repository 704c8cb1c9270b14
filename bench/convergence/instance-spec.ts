/**
 * The ContainerInstance every benchmark instance gets, and the image it
 * needs: a minimal image in a real registry (Debian docker-registry), and a
 * Glance image in the run's dev cloud that the image publisher recognizes as
 * its own publish of that digest. Convergence then measures the server work,
 * not one `docker save` upload, which the image-streaming benchmark covers.
 */
import type { ContainerInstanceSpec } from '../../src/api/types.js';
import { devCloudToken, type DevCloud } from '../../test/support/devcloud.js';
import { useRegistry } from '../../test/support/registry.js';
import type { RunEnvironment } from '../harness/environment.js';
import { pushMinimalImage, type PushedImage } from '../harness/registry-push.js';

let pushed: Promise<PushedImage> | undefined;

/**
 * Seeds the run's Glance with the benchmark image and returns the spec:
 * flavor m1.tiny, the dev cloud's network and the run's cloud Secret.
 * Rejects naming the registry or Glance call that failed.
 */
export async function benchmarkInstanceSpec(env: RunEnvironment): Promise<ContainerInstanceSpec> {
  pushed ??= useRegistry().then((registry) => pushMinimalImage(registry.url, 'bench/hello', '1.0'));
  const image = await pushed;
  await seedGlanceImage(env.cloud, image);
  return {
    image: image.reference,
    flavor: 'm1.tiny',
    networks: [{ name: env.cloud.networkName }],
    cloud: { secretName: env.cloudSecretName, cloudName: env.cloud.cloudName },
  };
}

/**
 * Creates an active Glance image with the properties the image publisher
 * writes on its own publishes, so the operator reuses it instead of pulling.
 */
async function seedGlanceImage(cloud: DevCloud, image: PushedImage): Promise<void> {
  const token = await devCloudToken(cloud);
  const base = cloud.endpoints.image.replace(/\/$/, '');
  // TODO: take these property names and the image name from src/images once
  // the image publisher is on main, so they cannot drift from what it reads.
  const created = await fetch(`${base}/v2/images`, {
    method: 'POST',
    headers: { 'X-Auth-Token': token, 'Content-Type': 'application/json' },
    body: JSON.stringify({
      name: image.reference,
      container_format: 'docker',
      disk_format: 'raw',
      visibility: 'private',
      hypervisor_type: 'docker',
      'novadocker.io/digest': image.digest,
      'novadocker.io/source': image.reference,
      'novadocker.io/managed': 'true',
      'novadocker.io/last-used': new Date().toISOString(),
    }),
  });
  if (created.status !== 201) {
    throw new Error(
      `creating the benchmark Glance image in ${base} failed with ${created.status}: ${await created.text()}`,
    );
  }
  const { id } = (await created.json()) as { id: string };
  const uploaded = await fetch(`${base}/v2/images/${id}/file`, {
    method: 'PUT',
    headers: { 'X-Auth-Token': token, 'Content-Type': 'application/octet-stream' },
    body: image.layer,
  });
  if (uploaded.status !== 204) {
    throw new Error(
      `uploading the benchmark Glance image ${id} to ${base} failed with ${uploaded.status}: ${await uploaded.text()}`,
    );
  }
}
