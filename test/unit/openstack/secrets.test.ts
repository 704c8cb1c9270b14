/**
 * Credentials must never reach a log line or an error message. This drives
 * the client through success, retries, a rejected password and invalid
 * configuration with debug logging captured, then searches everything for
 * the password, tokens and application credential secret. It uses the fake
 * cloud of fake-openstack.ts so that the tokens it issues are known.
 */
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { inspect } from 'node:util';

import { createLogger } from '../../../src/observability/logger.js';
import { cloudConfigFromString, openCloud } from '../../../src/openstack/index.js';
import {
  fakePassword,
  sendJson,
  startFakeOpenStack,
  type FakeOpenStack,
} from './fake-openstack.js';

const appCredentialSecret = 'ac-Secret-7f3e-never-log-me';

describe('OpenStack client secrets', () => {
  let fake: FakeOpenStack;
  let logText: () => string;
  let logStream: PassThrough;

  beforeEach(async () => {
    fake = await startFakeOpenStack();
    logStream = new PassThrough();
    const chunks: string[] = [];
    logStream.on('data', (chunk: Buffer) => chunks.push(chunk.toString()));
    logText = () => chunks.join('');
  });

  afterEach(async () => {
    await fake.close();
  });

  it('keeps credentials out of logs and errors', async () => {
    const logger = createLogger({ level: 'debug' }, logStream);
    const messages: string[] = [];
    const collect = (err: unknown) => {
      messages.push(String(err), inspect(err, { depth: 5 }), JSON.stringify(err));
    };

    let calls = 0;
    fake.handler = (_request, response) => {
      calls++;
      if (calls === 1) sendJson(response, 503, { message: 'Service Unavailable' });
      else if (calls === 2)
        sendJson(response, 401, {
          error: { code: 401, message: 'The request you have made requires authentication.' },
        });
      else
        sendJson(response, 404, {
          itemNotFound: { code: 404, message: 'Instance x could not be found.' },
        });
      return true;
    };
    const config = fake.config();
    const client = openCloud(config, { logger, retry: { baseDelayMs: 1, maxDelayMs: 5 } });
    await client.compute.getServer('x').catch(collect);
    messages.push(
      inspect(config, { depth: 5 }),
      JSON.stringify(config),
      inspect(client.session, { depth: 5 }),
    );
    await client.close();

    fake.authStatus = 401;
    const rejected = openCloud(fake.config(), { logger });
    await rejected.compute.listServers().catch(collect);
    await rejected.close();

    const appCredentialText = [
      'clouds:',
      '  prod:',
      '    auth:',
      `      auth_url: ${fake.baseUrl}/identity/v3`,
      '      application_credential_id: ac1',
      `      application_credential_secret: ${appCredentialSecret}`,
      '      project_name: not-allowed',
    ].join('\n');
    try {
      cloudConfigFromString(appCredentialText);
    } catch (err) {
      collect(err);
    }
    try {
      cloudConfigFromString(
        `clouds:\n  prod:\n    auth:\n      password: "${fakePassword}\n      x: y`,
      );
    } catch (err) {
      collect(err);
    }

    const everything = `${logText()}\n${messages.join('\n')}`;
    assert.ok(fake.tokensIssued.length >= 2, 'expected the fake to issue tokens');
    assert.ok(messages.length >= 4, 'expected errors to inspect');
    assert.match(logText(), /"requestID":"req-/);
    assert.ok(!everything.includes(fakePassword), 'password leaked');
    assert.ok(!everything.includes(appCredentialSecret), 'application credential secret leaked');
    for (const token of fake.tokensIssued)
      assert.ok(!everything.includes(token), `token ${token.slice(0, 6)}... leaked`);
  });
});
