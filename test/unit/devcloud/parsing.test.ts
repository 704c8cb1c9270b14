import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';

import { splitCommandLine } from '../../../src/devcloud/compute/command-line.js';
import { overlappingRoutes, parseRouteTable } from '../../../src/devcloud/compute/host-routes.js';
import { parseCidr, resolveConfig } from '../../../src/devcloud/config.js';
import { ApiError } from '../../../src/devcloud/http/errors.js';
import { negotiateMicroversion } from '../../../src/devcloud/nova/microversion.js';
import { pythonRepr } from '../../../src/devcloud/nova/python-repr.js';
import { makeStateDir, removeStateDir } from '../../support/state.js';

function negotiate(headers: Record<string, string>): {
  version: string;
  sent: Record<string, string>;
} {
  const sent: Record<string, string> = {};
  const res = {
    setHeader: (name: string, value: string) => (sent[name] = value),
  } as unknown as ServerResponse;
  const version = negotiateMicroversion({ headers } as IncomingMessage, res);
  return { version: String(version), sent };
}

describe('dev cloud parsing', function () {
  describe('splitCommandLine', function () {
    it('splits plain words', function () {
      assert.deepEqual(splitCommandLine('sleep  1000'), ['sleep', '1000']);
    });

    it('keeps quoted words together', function () {
      assert.deepEqual(splitCommandLine(`sh -c 'echo "a b"; sleep 1'`), [
        'sh',
        '-c',
        'echo "a b"; sleep 1',
      ]);
    });

    it('honours backslash escapes', function () {
      assert.deepEqual(splitCommandLine('echo a\\ b "c\\"d"'), ['echo', 'a b', 'c"d']);
    });

    it('rejects an unterminated quote', function () {
      assert.throws(() => splitCommandLine("echo 'oops"), /unterminated ' quote/);
    });
  });

  describe('pythonRepr', function () {
    it('formats a request body like Python', function () {
      assert.equal(
        pythonRepr({ name: 'web', count: 1, ok: true, none: null, list: ["it's"] }),
        `{'name': 'web', 'count': 1, 'ok': True, 'none': None, 'list': ["it's"]}`,
      );
    });
  });

  describe('negotiateMicroversion', function () {
    it('defaults to 2.1', function () {
      assert.equal(negotiate({}).version, '2.1');
    });

    it('prefers OpenStack-API-Version over the legacy header', function () {
      const { version, sent } = negotiate({
        'openstack-api-version': 'compute 2.60',
        'x-openstack-nova-api-version': '2.3',
      });
      assert.equal(version, '2.60');
      assert.equal(sent['OpenStack-API-Version'], 'compute 2.60');
    });

    it('maps latest to 2.93', function () {
      assert.equal(negotiate({ 'x-openstack-nova-api-version': 'latest' }).version, '2.93');
    });

    it('rejects a version above the maximum', function () {
      assert.throws(
        () => negotiate({ 'openstack-api-version': 'compute 2.94' }),
        (err: unknown) => err instanceof ApiError && err.status === 406,
      );
    });

    it('rejects a malformed version', function () {
      assert.throws(
        () => negotiate({ 'openstack-api-version': 'compute 2.x' }),
        (err: unknown) => err instanceof ApiError && err.status === 400,
      );
    });
  });

  describe('config', function () {
    it('merges file and flag layers', function () {
      const config = resolveConfig(
        { port: 9000, quotas: { instances: 3 }, faults: { latencyMs: { compute: 20 } } },
        { port: 9100, faults: { errorRates: { '429': 0.5 } } },
      );
      assert.equal(config.port, 9100);
      assert.equal(config.quotas.instances, 3);
      assert.equal(config.quotas.ram, 51200);
      assert.equal(config.faults.latencyMs.compute, 20);
      assert.equal(config.faults.errorRates['429'], 0.5);
    });

    it('rejects error rates above one', function () {
      assert.throws(
        () => resolveConfig({ faults: { errorRates: { '500': 0.6, '503': 0.6 } } }),
        /add up to 1\.2/,
      );
    });

    it('rejects an invalid CIDR', function () {
      assert.throws(() => parseCidr('10.0.0.0/33'), /invalid networkCidr "10\.0\.0\.0\/33"/);
    });
  });
});

describe('dev cloud host routes', function () {
  const table = [
    'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT',
    'eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0',
    'eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0',
    'wg0\t0000000A\t00000000\t0001\t0\t0\t0\t000000FF\t0\t0\t0',
  ].join('\n');

  it('parses routes without the default route', function () {
    assert.deepEqual(parseRouteTable(table), [
      { network: 0xc0000200, prefix: 24, iface: 'eth0' },
      { network: 0x0a000000, prefix: 8, iface: 'wg0' },
    ]);
  });

  it('finds a route that overlaps the network CIDR', async function () {
    const dir = await makeStateDir('dcroute');
    try {
      const file = path.join(dir, 'route');
      await writeFile(file, table);
      assert.deepEqual(await overlappingRoutes('10.1.0.0/16', file), ['10.0.0.0/8 dev wg0']);
      assert.deepEqual(await overlappingRoutes('172.31.0.0/24', file), []);
    } finally {
      await removeStateDir(dir);
    }
  });
});
