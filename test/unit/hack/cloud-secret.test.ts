import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { parse as parseYaml } from 'yaml';

import { buildCloudSecret } from '../../../hack/lib/cloud-secret.js';

const PASSWORD = 'not-a-real-password-7f3a';

const cloud = (extra = '') => `
    auth:
      auth_url: https://keystone.example.com:5000/v3
      username: operator
      password: ${PASSWORD}
      project_name: containers
      user_domain_name: Default
      project_domain_name: Default
    region_name: RegionOne${extra}`;

const PEM = '-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n';

describe('cloud Secret from clouds.yaml', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ndo-cloud-secret-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const write = async (text: string) => {
    const path = join(dir, 'clouds.yaml');
    await writeFile(path, text);
    return path;
  };

  const build = (cloudsYamlPath: string, name?: string) =>
    buildCloudSecret({
      cloudsYamlPath,
      namespace: 'nova-docker-operator',
      name: 'openstack-cloud',
      ...(name === undefined ? {} : { cloud: name }),
    });

  it('keeps only the chosen cloud', async () => {
    const path = await write(`clouds:\n  prod:${cloud()}\n  staging:${cloud()}\n`);
    const secret = build(path, 'prod');
    const clouds = parseYaml(secret.stringData['clouds.yaml']!).clouds;
    assert.deepEqual(Object.keys(clouds), ['prod']);
    assert.equal(clouds.prod.auth.password, PASSWORD);
    assert.equal(clouds.prod.region_name, 'RegionOne');
  });

  it('names the Secret as asked', async () => {
    const secret = build(await write(`clouds:\n  prod:${cloud()}\n`));
    assert.deepEqual(secret.metadata, {
      name: 'openstack-cloud',
      namespace: 'nova-docker-operator',
    });
    assert.equal(secret.kind, 'Secret');
    assert.equal(secret.type, 'Opaque');
  });

  it('takes the only cloud unnamed', async () => {
    const secret = build(await write(`clouds:\n  prod:${cloud()}\n`));
    assert.deepEqual(Object.keys(parseYaml(secret.stringData['clouds.yaml']!).clouds), ['prod']);
  });

  it('adds cacert from the file folder', async () => {
    await mkdir(join(dir, 'certs'));
    await writeFile(join(dir, 'certs/ca.pem'), PEM);
    const secret = build(await write(`clouds:\n  prod:${cloud('\n    cacert: certs/ca.pem')}\n`));
    assert.equal(secret.stringData.cacert, PEM);
  });

  it('leaves cacert out when unset', async () => {
    const secret = build(await write(`clouds:\n  prod:${cloud()}\n`));
    assert.equal(secret.stringData.cacert, undefined);
  });

  it('rejects a missing cacert file', async () => {
    const path = await write(`clouds:\n  prod:${cloud('\n    cacert: missing.pem')}\n`);
    assert.throws(() => build(path), /cloud "prod": cacert: cannot read missing\.pem: ENOENT/);
  });

  it('rejects several clouds unnamed', async () => {
    const path = await write(`clouds:\n  prod:${cloud()}\n  staging:${cloud()}\n`);
    assert.throws(() => build(path), /defines 2 clouds \(prod, staging\)/);
  });

  it('rejects an unknown cloud', async () => {
    const path = await write(`clouds:\n  prod:${cloud()}\n`);
    assert.throws(() => build(path, 'dev'), /cloud "dev": no such cloud; the file defines: prod/);
  });

  it('rejects a broken entry without the password', async () => {
    const path = await write(
      `clouds:\n  prod:\n    auth:\n      auth_url: https://k.example.com/v3\n      username: operator\n      password: ${PASSWORD}\n      project_name: containers\n`,
    );
    const error = (() => {
      try {
        build(path);
      } catch (err) {
        return err as Error;
      }
      return undefined;
    })();
    assert.match(error?.message ?? '', /cloud "prod": auth\.user_domain_name: is missing/);
    assert.doesNotMatch(error?.message ?? '', new RegExp(PASSWORD));
  });

  it('rejects an unreadable file', () => {
    assert.throws(
      () => build(join(dir, 'absent.yaml')),
      /absent\.yaml: cannot read the file: ENOENT/,
    );
  });
});
