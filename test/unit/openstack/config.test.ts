import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import {
  CloudConfigError,
  cloudConfigFromString,
  configSearchPath,
  loadCloudConfig,
  type CloudConfig,
} from '../../../src/openstack/index.js';

const pem = '-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n';

/** Builds clouds.yaml text with one cloud "prod" from indented body lines. */
function clouds(...lines: string[]): string {
  return ['clouds:', '  prod:', ...lines.map((line) => `    ${line}`)].join('\n');
}

const passwordAuth = [
  'auth:',
  '  auth_url: https://keystone.example.test:5000',
  '  username: demo',
  '  password: s3cret-pw',
  '  project_name: demo',
  '  user_domain_name: Default',
  '  project_domain_name: Default',
];

interface ValidCase {
  name: string;
  text: string;
  check: (config: CloudConfig) => void;
}

const validCases: ValidCase[] = [
  {
    name: 'password with names and domains',
    text: clouds(...passwordAuth, 'region_name: RegionOne'),
    check: (config) => {
      assert.equal(config.auth.type, 'password');
      assert.equal(config.auth.authUrl, 'https://keystone.example.test:5000/v3');
      assert.equal(config.regionName, 'RegionOne');
      assert.equal(config.interface, 'public');
      assert.equal(config.verify, true);
      assert.equal(config.auth.type === 'password' && config.auth.password.reveal(), 's3cret-pw');
      assert.deepEqual(config.auth.type === 'password' && config.auth.scope, {
        projectName: 'demo',
        projectDomainName: 'Default',
      });
    },
  },
  {
    name: 'password with user and project IDs',
    text: clouds(
      'auth:',
      '  auth_url: http://127.0.0.1:5000/v3/',
      '  user_id: u1',
      '  password: 123456',
      '  project_id: p1',
    ),
    check: (config) => {
      assert.equal(config.auth.authUrl, 'http://127.0.0.1:5000/v3');
      assert.equal(config.auth.type === 'password' && config.auth.userId, 'u1');
      // An unquoted numeric password is read as a number by YAML and used as text.
      assert.equal(config.auth.type === 'password' && config.auth.password.reveal(), '123456');
      assert.deepEqual(config.auth.type === 'password' && config.auth.scope, { projectId: 'p1' });
    },
  },
  {
    name: 'domain_name as default for user and project',
    text: clouds(
      'auth:',
      '  auth_url: http://k/v3',
      '  username: demo',
      '  password: x',
      '  project_name: demo',
      '  domain_name: Users',
    ),
    check: (config) => {
      assert.equal(config.auth.type === 'password' && config.auth.userDomainName, 'Users');
      assert.equal(config.auth.type === 'password' && config.auth.scope.projectDomainName, 'Users');
    },
  },
  {
    name: 'application credential by ID',
    text: clouds(
      'auth_type: v3applicationcredential',
      'auth:',
      '  auth_url: http://k:5000',
      '  application_credential_id: ac1',
      '  application_credential_secret: ac-secret',
    ),
    check: (config) => {
      assert.equal(config.auth.type, 'v3applicationcredential');
      assert.equal(config.auth.type === 'v3applicationcredential' && config.auth.id, 'ac1');
      assert.equal(
        config.auth.type === 'v3applicationcredential' && config.auth.secret.reveal(),
        'ac-secret',
      );
    },
  },
  {
    name: 'application credential by name and user',
    text: clouds(
      'auth:',
      '  auth_url: http://k:5000',
      '  application_credential_name: ci',
      '  application_credential_secret: ac-secret',
      '  username: demo',
      '  user_domain_id: default',
    ),
    check: (config) => {
      // The auth type is inferred from the secret, as a missing auth_type would otherwise mean password.
      assert.equal(config.auth.type, 'v3applicationcredential');
      assert.equal(config.auth.type === 'v3applicationcredential' && config.auth.name, 'ci');
      assert.equal(
        config.auth.type === 'v3applicationcredential' && config.auth.userDomainId,
        'default',
      );
    },
  },
  {
    name: 'token with project ID',
    text: clouds(
      'auth_type: token',
      'auth:',
      '  auth_url: http://k:5000',
      '  token: tok',
      '  project_id: p1',
    ),
    check: (config) => {
      assert.equal(config.auth.type, 'token');
      assert.deepEqual(config.auth.type === 'token' && config.auth.scope, { projectId: 'p1' });
    },
  },
  {
    name: 'interface alias, region list, verify false',
    text: clouds(
      ...passwordAuth,
      'interface: internalURL',
      'regions: [RegionTwo, RegionThree]',
      'verify: false',
      'api_timeout: 12',
    ),
    check: (config) => {
      assert.equal(config.interface, 'internal');
      assert.equal(config.regionName, 'RegionTwo');
      assert.equal(config.verify, false);
      assert.equal(config.timeoutMs, 12_000);
    },
  },
  {
    name: 'endpoint overrides per service',
    text: clouds(
      ...passwordAuth,
      'compute_endpoint_override: http://nova.internal:8774/v2.1/',
      'image_endpoint_override: http://glance.internal:9292',
    ),
    check: (config) => {
      assert.equal(config.endpointOverrides.compute, 'http://nova.internal:8774/v2.1');
      assert.equal(config.endpointOverrides.image, 'http://glance.internal:9292');
      assert.equal(config.endpointOverrides.network, undefined);
    },
  },
];

interface InvalidCase {
  name: string;
  text: string;
  /** Parts the message must contain: the source, the cloud and the key. */
  expected: RegExp[];
}

const source = 'Secret ops/openstack key clouds.yaml';

const invalidCases: InvalidCase[] = [
  {
    name: 'missing auth_url',
    text: clouds(
      'auth:',
      '  username: demo',
      '  password: s3cret-pw',
      '  project_id: p',
      '  user_domain_name: Default',
    ),
    expected: [/cloud "prod"/, /auth\.auth_url: is missing/],
  },
  {
    name: 'missing password',
    text: clouds(
      'auth:',
      '  auth_url: http://k',
      '  username: demo',
      '  project_id: p',
      '  user_domain_name: Default',
    ),
    expected: [/cloud "prod"/, /auth\.password: is missing/],
  },
  {
    name: 'misspelt auth key',
    text: clouds(
      'auth:',
      '  auth_url: http://k',
      '  username: demo',
      '  pasword: s3cret-pw',
      '  project_id: p',
    ),
    expected: [/auth\.pasword: is not a known key/],
  },
  {
    name: 'user name without domain',
    text: clouds(
      'auth:',
      '  auth_url: http://k',
      '  username: demo',
      '  password: s3cret-pw',
      '  project_id: p',
    ),
    expected: [/auth\.user_domain_name: is missing for user "demo"/],
  },
  {
    name: 'project name without domain',
    text: clouds(
      'auth:',
      '  auth_url: http://k',
      '  user_id: u',
      '  password: s3cret-pw',
      '  project_name: demo',
    ),
    expected: [/auth\.project_domain_name: is missing for project "demo"/],
  },
  {
    name: 'no scope at all',
    text: clouds('auth:', '  auth_url: http://k', '  user_id: u', '  password: s3cret-pw'),
    expected: [/auth\.project_name: is missing/],
  },
  {
    name: 'unsupported auth type',
    text: clouds('auth_type: v3oidcpassword', ...passwordAuth),
    expected: [/auth_type: "v3oidcpassword" is not supported/],
  },
  {
    name: 'application credential with project',
    text: clouds(
      'auth:',
      '  auth_url: http://k',
      '  application_credential_id: a',
      '  application_credential_secret: s3cret-pw',
      '  project_name: demo',
    ),
    expected: [/auth\.project_name: cannot be used with an application credential/],
  },
  {
    name: 'application credential without ID or name',
    text: clouds(
      'auth_type: v3applicationcredential',
      'auth:',
      '  auth_url: http://k',
      '  application_credential_secret: s3cret-pw',
    ),
    expected: [/auth\.application_credential_id: is missing/],
  },
  {
    name: 'Keystone v2.0 URL',
    text: clouds(
      'auth:',
      '  auth_url: http://k:5000/v2.0',
      '  user_id: u',
      '  password: s3cret-pw',
      '  project_id: p',
    ),
    expected: [/auth\.auth_url: "http:\/\/k:5000\/v2.0" points at Keystone v2.0/],
  },
  {
    name: 'auth_url not a URL',
    text: clouds(
      'auth:',
      '  auth_url: keystone',
      '  user_id: u',
      '  password: s3cret-pw',
      '  project_id: p',
    ),
    expected: [/auth\.auth_url: "keystone" is not a valid URL/],
  },
  {
    name: 'unknown interface',
    text: clouds(...passwordAuth, 'interface: private'),
    expected: [/interface: "private" is not one of public, internal, admin/],
  },
  {
    name: 'verify not a boolean',
    text: clouds(...passwordAuth, 'verify: maybe'),
    expected: [/verify: must be true or false/],
  },
  {
    name: 'unreadable cacert',
    text: clouds(...passwordAuth, 'cacert: /nonexistent/ca.pem'),
    expected: [/cacert: cannot read "\/nonexistent\/ca.pem": ENOENT/],
  },
  {
    name: 'auth not a mapping',
    text: clouds('auth: s3cret-pw'),
    expected: [/auth: must be a mapping, not a string/],
  },
  {
    name: 'password of the wrong type',
    text: clouds(
      'auth:',
      '  auth_url: http://k',
      '  user_id: u',
      '  password: [s3cret-pw]',
      '  project_id: p',
    ),
    expected: [/auth\.password: must be a string, not a list/],
  },
  {
    name: 'invalid YAML',
    text: 'clouds:\n  prod:\n    auth:\n      password: "s3cret-pw\n     username: x',
    expected: [/is not valid YAML at line \d+, column \d+/],
  },
  {
    name: 'no clouds key',
    text: 'prod:\n  auth: {}\n',
    expected: [/clouds: is missing or not a mapping/],
  },
  {
    name: 'unknown cloud name',
    text: clouds(...passwordAuth).replace('prod:', 'staging:'),
    expected: [/cloud "prod": no such cloud; the file defines: staging/],
  },
];

describe('clouds.yaml parsing', () => {
  for (const testCase of validCases) {
    it(`accepts ${testCase.name}`, () => {
      testCase.check(cloudConfigFromString(testCase.text, { cloud: 'prod' }));
    });
  }

  for (const testCase of invalidCases) {
    it(`rejects ${testCase.name}`, () => {
      let caught: unknown;
      try {
        cloudConfigFromString(testCase.text, { cloud: 'prod', source });
      } catch (err) {
        caught = err;
      }

      assert.ok(
        caught instanceof CloudConfigError,
        `expected a CloudConfigError, got ${String(caught)}`,
      );
      assert.ok(caught.message.startsWith(`${source}: `), caught.message);
      for (const pattern of testCase.expected) assert.match(caught.message, pattern);
      assert.doesNotMatch(caught.message, /s3cret-pw/);
    });
  }

  it('uses the only cloud without a name', () => {
    const config = cloudConfigFromString(clouds(...passwordAuth));
    assert.equal(config.cloudName, 'prod');
  });

  it('requires a name among several clouds', () => {
    const text = `${clouds(...passwordAuth)}\n  other:\n    auth: {}\n`;
    assert.throws(
      () => cloudConfigFromString(text),
      /defines 2 clouds \(prod, other\); name the cloud to use/,
    );
  });

  it('takes the CA bundle from the Secret', () => {
    const config = cloudConfigFromString(
      clouds(...passwordAuth, 'cacert: /etc/openstack/missing-ca.pem'),
      { caCert: pem },
    );
    assert.equal(config.caCert, pem);
  });

  it('merges secure.yaml text over the cloud', () => {
    const text = clouds('auth:', '  auth_url: http://k', '  user_id: u', '  project_id: p');
    const secure = 'clouds:\n  prod:\n    auth:\n      password: from-secure\n';
    const config = cloudConfigFromString(text, { secureYaml: secure });
    assert.equal(config.auth.type === 'password' && config.auth.password.reveal(), 'from-secure');
  });
});

describe('clouds.yaml lookup', () => {
  let root: string;
  let cwd: string;
  let home: string;

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'clouds-'));
    cwd = join(root, 'work');
    home = join(root, 'home');
    mkdirSync(cwd);
    mkdirSync(join(home, '.config', 'openstack'), { recursive: true });
  });

  afterEach(() => {
    rmSync(root, { recursive: true, force: true });
  });

  const cloudFile = (region: string) => `${clouds(...passwordAuth, `region_name: ${region}`)}\n`;

  it('searches in openstacksdk order', () => {
    const paths = configSearchPath('clouds.yaml', {
      env: { OS_CLIENT_CONFIG_FILE: '/x/c.yaml' },
      cwd,
      homeDir: home,
    });
    assert.deepEqual(paths, [
      '/x/c.yaml',
      join(cwd, 'clouds.yaml'),
      join(home, '.config/openstack/clouds.yaml'),
      '/etc/openstack/clouds.yaml',
    ]);
  });

  it('prefers the current directory over home', () => {
    writeFileSync(join(cwd, 'clouds.yaml'), cloudFile('FromCwd'));
    writeFileSync(join(home, '.config/openstack/clouds.yaml'), cloudFile('FromHome'));
    const config = loadCloudConfig({ cloud: 'prod', env: {}, cwd, homeDir: home });
    assert.equal(config.regionName, 'FromCwd');
    assert.equal(config.source, join(cwd, 'clouds.yaml'));
  });

  it('prefers OS_CLIENT_CONFIG_FILE over the current directory', () => {
    const explicit = join(root, 'explicit.yaml');
    writeFileSync(explicit, cloudFile('FromEnvFile'));
    writeFileSync(join(cwd, 'clouds.yaml'), cloudFile('FromCwd'));
    const config = loadCloudConfig({
      env: { OS_CLIENT_CONFIG_FILE: explicit, OS_CLOUD: 'prod' },
      cwd,
      homeDir: home,
    });
    assert.equal(config.regionName, 'FromEnvFile');
  });

  it('merges secure.yaml from home', () => {
    writeFileSync(
      join(cwd, 'clouds.yaml'),
      `${clouds('auth:', '  auth_url: http://k', '  user_id: u', '  project_id: p')}\n`,
    );
    writeFileSync(
      join(home, '.config/openstack/secure.yaml'),
      'clouds:\n  prod:\n    auth:\n      password: from-secure\n',
    );
    const config = loadCloudConfig({ cloud: 'prod', env: {}, cwd, homeDir: home });
    assert.equal(config.auth.type === 'password' && config.auth.password.reveal(), 'from-secure');
  });

  it('reads the cacert file', () => {
    const caPath = join(root, 'ca.pem');
    writeFileSync(caPath, pem);
    writeFileSync(
      join(cwd, 'clouds.yaml'),
      cloudFile('R').replace('region_name: R', `cacert: ${caPath}`),
    );
    const config = loadCloudConfig({ env: {}, cwd, homeDir: home });
    assert.equal(config.caCert, pem);
  });

  it('names the file when a key is missing', () => {
    writeFileSync(
      join(cwd, 'clouds.yaml'),
      `${clouds('auth:', '  auth_url: http://k', '  user_id: u', '  project_id: p')}\n`,
    );
    assert.throws(
      () => loadCloudConfig({ cloud: 'prod', env: {}, cwd, homeDir: home }),
      (err: Error) =>
        err.message ===
        `${join(cwd, 'clouds.yaml')}: cloud "prod": auth.password: is missing; set it in clouds.yaml or secure.yaml`,
    );
  });

  it('reports the searched paths when no file exists', () => {
    assert.throws(
      () => loadCloudConfig({ cloud: 'prod', env: {}, cwd, homeDir: home }),
      (err: Error) =>
        err.message.includes(`no clouds.yaml found (searched ${join(cwd, 'clouds.yaml')}`),
    );
  });

  it('builds the envvars cloud from OS_ variables', () => {
    const env = {
      OS_AUTH_URL: 'http://keystone:5000/v3',
      OS_USERNAME: 'demo',
      OS_PASSWORD: 'env-pw',
      OS_PROJECT_NAME: 'demo',
      OS_USER_DOMAIN_NAME: 'Default',
      OS_PROJECT_DOMAIN_NAME: 'Default',
      OS_REGION_NAME: 'RegionOne',
      OS_INTERFACE: 'internal',
    };
    const config = loadCloudConfig({ env, cwd, homeDir: home });
    assert.equal(config.cloudName, 'envvars');
    assert.equal(config.source, 'environment');
    assert.equal(config.regionName, 'RegionOne');
    assert.equal(config.interface, 'internal');
    assert.equal(config.auth.type === 'password' && config.auth.password.reveal(), 'env-pw');
  });

  it('prefers OS_CLOUD over OS_ variables', () => {
    writeFileSync(join(cwd, 'clouds.yaml'), cloudFile('FromFile'));
    const config = loadCloudConfig({
      env: { OS_CLOUD: 'prod', OS_AUTH_URL: 'http://other/v3' },
      cwd,
      homeDir: home,
    });
    assert.equal(config.cloudName, 'prod');
    assert.equal(config.regionName, 'FromFile');
  });
});
