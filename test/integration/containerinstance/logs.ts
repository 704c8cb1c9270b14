import assert from 'node:assert/strict';

import type { Scenario } from './scenario.js';

/**
 * Asserts that no operator log of the scenario contains a secret: the dev
 * cloud's passwords and application credential secret, the extra values
 * given (such as env values read from Secrets), or a Keystone token header.
 */
export async function assertNoSecretsLogged(
  scenario: Scenario,
  extra: string[] = [],
): Promise<void> {
  const logs = await scenario.operatorLogs();
  assert.ok(logs.length > 0, 'the scenario captured no operator log');
  for (const secret of [...scenario.env.cloud.secrets, ...extra]) {
    assert.ok(
      !logs.includes(secret),
      `an operator log contains the secret ${secret.slice(0, 4)}...`,
    );
  }
  assert.doesNotMatch(logs, /x-auth-token"?\s*[:=]\s*"?[A-Za-z0-9_-]{16,}/i);
}
