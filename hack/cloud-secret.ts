/**
 * Prints, as JSON for `kubectl apply -f -`, the Secret with one cloud of a
 * local clouds.yaml that the operator reads as its default credentials.
 *
 *   node dist/hack/cloud-secret.js CLOUDS_YAML [CLOUD] NAMESPACE/NAME
 *
 * Exits 2 with a message naming the file, cloud and key when the entry is
 * unusable; the message never contains a credential.
 */
import { buildCloudSecret } from './lib/cloud-secret.js';

const usage = 'usage: cloud-secret.js CLOUDS_YAML [CLOUD] NAMESPACE/NAME';

const args = process.argv.slice(2);
if (args.length < 2 || args.length > 3) {
  console.error(usage);
  process.exit(2);
}
const cloudsYamlPath = args[0]!;
const cloud = args.length === 3 ? args[1] || undefined : undefined;
const [namespace, name, ...rest] = args.at(-1)!.split('/');
if (!namespace || !name || rest.length > 0) {
  console.error(`invalid Secret "${args.at(-1)}": expected NAMESPACE/NAME; ${usage}`);
  process.exit(2);
}

try {
  const secret = buildCloudSecret({
    cloudsYamlPath,
    namespace,
    name,
    ...(cloud === undefined ? {} : { cloud }),
  });
  process.stdout.write(JSON.stringify(secret) + '\n');
} catch (err) {
  console.error(`cloud-secret: ${(err as Error).message}`);
  process.exit(2);
}
