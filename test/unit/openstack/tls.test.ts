/**
 * TLS settings against the fake cloud of fake-openstack.ts served over HTTPS
 * with a throwaway CA made by openssl: the test cloud speaks plain HTTP, so
 * only a local HTTPS server can show that `cacert` and `verify: false` reach
 * the connection.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { OpenStackError, openCloud, type CloudConfig } from '../../../src/openstack/index.js';
import { sendJson, startFakeOpenStack, type FakeOpenStack } from './fake-openstack.js';

interface Certificates {
  caCert: string;
  key: string;
  cert: string;
}

/** Creates a CA and a certificate for IP 127.0.0.1 signed by it. */
function makeCertificates(dir: string): Certificates {
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(
    'req',
    '-x509',
    ...ec,
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-days',
    '1',
    '-subj',
    '/CN=osclient test CA',
  );
  openssl('req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1');
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1\n');
  openssl(
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'server.pem',
    '-days',
    '1',
    '-extfile',
    'san.ext',
  );
  return {
    caCert: readFileSync(join(dir, 'ca.pem'), 'utf8'),
    key: readFileSync(join(dir, 'server.key'), 'utf8'),
    cert: readFileSync(join(dir, 'server.pem'), 'utf8'),
  };
}

describe('OpenStack client TLS', () => {
  let dir: string;
  let certificates: Certificates;
  let fake: FakeOpenStack;

  before(function () {
    dir = mkdtempSync(join(tmpdir(), 'osclient-tls-'));
    try {
      certificates = makeCertificates(dir);
    } catch (err) {
      // NOTE: openssl comes with Debian's base system; without it these tests cannot make a CA.
      console.warn(`skipping TLS tests: openssl failed: ${String(err)}`);
      this.skip();
    }
  });

  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  beforeEach(async () => {
    fake = await startFakeOpenStack({ tls: { key: certificates.key, cert: certificates.cert } });
    fake.handler = (_request, response) => {
      sendJson(response, 200, { server: { id: 'srv-1', name: 'web', status: 'ACTIVE' } });
      return true;
    };
  });

  afterEach(async () => {
    await fake.close();
  });

  const getServer = async (config: CloudConfig) => {
    const client = openCloud(config, { retry: { maxRetries: 0 } });
    try {
      return await client.compute.getServer('srv-1');
    } finally {
      await client.close();
    }
  };

  it('trusts the CA bundle from the Secret', async () => {
    const server = await getServer({ ...fake.config(), caCert: certificates.caCert });

    assert.equal(server.id, 'srv-1');
  });

  it('rejects an unknown CA', async () => {
    const err = await getServer(fake.config()).catch((caught: unknown) => caught);

    assert.ok(err instanceof OpenStackError);
    assert.equal(err.errorClass, 'network');
    assert.equal(err.service, 'identity');
    assert.match(err.message, /certificate/i);
    assert.equal(fake.tokensIssued.length, 0);
  });

  it('skips verification with verify false', async () => {
    const server = await getServer(fake.config('    verify: false'));

    assert.equal(server.id, 'srv-1');
  });
});
