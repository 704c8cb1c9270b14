import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

import { stringify as stringifyYaml } from 'yaml';

import type { Logger } from '../observability/logger.js';
import { adminRouter } from './admin.js';
import { DockerDriver } from './compute/docker-driver.js';
import type { ComputeDriver } from './compute/driver.js';
import { ComputeManager } from './compute/manager.js';
import { NoEngineDriver } from './compute/no-engine-driver.js';
import type { DevCloudConfig, ServiceName } from './config.js';
import { FaultInjector } from './faults.js';
import { buildFixtures, type Fixtures } from './fixtures.js';
import { glanceRouter } from './glance/routes.js';
import { ApiServer } from './http/server.js';
import { keystoneRouter } from './keystone/routes.js';
import { TokenService } from './keystone/tokens.js';
import { NetworkService, neutronRouter } from './neutron.js';
import { novaRouter } from './nova/router.js';
import { QuotaService } from './quotas.js';
import { StateStore } from './state.js';
import { RequestStats } from './stats.js';

/** Name of the member cloud in the generated clouds.yaml; the admin cloud is <name>-admin. */
export const cloudName = 'devcloud';

/** URLs and names of a started dev cloud; also written to <dataDir>/devcloud.json. */
export interface DevCloudInfo {
  pid: number;
  authUrl: string;
  adminUrl: string;
  endpoints: Record<ServiceName, string>;
  cloudName: string;
  adminCloudName: string;
  cloudsYamlPath: string;
  projectId: string;
  projectName: string;
  networkName: string;
  networkId: string;
  flavors: string[];
  driver: string;
}

/**
 * A running dev cloud: the OpenStack APIs on node:http, backed by a compute
 * driver and a state store in the data folder.
 */
export class DevCloud {
  private constructor(
    readonly info: DevCloudInfo,
    private readonly api: ApiServer,
    private readonly compute: ComputeManager,
    private readonly store: StateStore,
    private readonly log: Logger,
  ) {}

  /**
   * Opens the state, connects the compute driver (matching recorded servers with
   * their containers), starts listening and writes clouds.yaml and devcloud.json
   * into the data folder. Rejects with a message saying what to fix when the
   * state cannot be read, the engine cannot be reached or a port is taken.
   */
  static async start(config: DevCloudConfig, log: Logger): Promise<DevCloud> {
    const store = await StateStore.open(config.dataDir, log);
    const fixtures = buildFixtures(config);
    const tokens = new TokenService(store, config.tokenLifetimeSeconds);
    const faults = new FaultInjector(config.faults, config.faultSeed);
    const stats = new RequestStats();
    const networks = new NetworkService(fixtures, store);
    const flavor = (id: string) => fixtures.flavors.find((candidate) => candidate.id === id);
    const image = (id: string) => store.data.images[id];
    const quotas = new QuotaService(config.quotas, store, flavor);

    const driver: ComputeDriver = config.noEngine
      ? new NoEngineDriver()
      : new DockerDriver({
          socketPath: config.dockerSocket,
          prefix: config.dockerNetworkPrefix,
          networkName: config.networkName,
          networkCidr: fixtures.subnet.cidr,
          addressMode: config.addressMode,
          stopTimeoutSeconds: config.stopTimeoutSeconds,
          log: log.child({ component: 'docker-driver' }),
        });
    const compute = new ComputeManager({
      store,
      driver,
      networks,
      faults,
      flavor,
      image,
      buildDelayMs: config.buildDelayMs,
      log: log.child({ component: 'compute' }),
    });
    await compute.init();

    let endpoints = {} as Record<ServiceName, string>;
    const api = new ApiServer(
      [
        {
          name: 'identity',
          style: 'keystone',
          router: keystoneRouter({
            fixtures,
            tokens,
            region: config.region,
            endpoints: () => endpoints,
          }),
        },
        {
          name: 'compute',
          style: 'nova',
          router: novaRouter({ store, fixtures, networks, quotas, compute, flavor, image }),
        },
        { name: 'image', style: 'glance', router: glanceRouter(store) },
        { name: 'network', style: 'neutron', router: neutronRouter(fixtures, networks, store) },
        {
          name: 'admin',
          style: 'keystone',
          router: adminRouter({ stats, faults, quotas, store, compute, driverName: driver.name }),
        },
      ],
      {
        listenAddress: config.listenAddress,
        publicHost:
          config.publicHost ??
          (config.listenAddress === '0.0.0.0' ? '127.0.0.1' : config.listenAddress),
        ports: config.ports ?? config.port,
        log,
        faults,
        stats,
        tokens,
        // keystonemiddleware names the Keystone root, without the version, in WWW-Authenticate.
        authUrl: () => endpoints.identity.replace(/\/v3$/, ''),
      },
    );
    let roots;
    try {
      roots = await api.listen();
    } catch (err) {
      await api.close();
      await compute.close();
      throw err;
    }
    endpoints = {
      identity: `${roots.identity}/v3`,
      compute: `${roots.compute}/v2.1`,
      image: roots.image,
      network: roots.network,
    };

    const cloudsYamlPath = path.join(config.dataDir, 'clouds.yaml');
    await writeFile(cloudsYamlPath, cloudsYaml(config, fixtures, endpoints.identity), {
      mode: 0o600,
    });
    const info: DevCloudInfo = {
      pid: process.pid,
      authUrl: endpoints.identity,
      adminUrl: roots.admin,
      endpoints,
      cloudName,
      adminCloudName: `${cloudName}-admin`,
      cloudsYamlPath,
      projectId: fixtures.project.id,
      projectName: fixtures.project.name,
      networkName: fixtures.network.name,
      networkId: fixtures.network.id,
      flavors: fixtures.flavors.map((candidate) => candidate.name),
      driver: driver.name,
    };
    await writeFile(path.join(config.dataDir, 'devcloud.json'), JSON.stringify(info, null, 2));
    log.info(
      {
        authUrl: info.authUrl,
        adminUrl: info.adminUrl,
        endpoints,
        driver: driver.name,
        dataDir: config.dataDir,
      },
      'dev cloud ready',
    );
    return new DevCloud(info, api, compute, store, log);
  }

  /** Stops listening, waits for running compute operations and writes the state; containers keep running. */
  async stop(): Promise<void> {
    await this.api.close();
    await this.compute.close();
    await this.store.flush();
    await rm(path.join(this.store.dataDir, 'devcloud.json'), { force: true });
    this.log.info('dev cloud stopped');
  }
}

/**
 * Returns a clouds.yaml with three clouds: the member user with a password, the
 * admin user, and the member user through the application credential.
 */
function cloudsYaml(config: DevCloudConfig, fixtures: Fixtures, authUrl: string): string {
  const common = { region_name: config.region, interface: 'public', identity_api_version: 3 };
  const passwordAuth = (username: string, password: string) => ({
    auth_url: authUrl,
    username,
    password,
    project_name: fixtures.project.name,
    user_domain_name: fixtures.domainName,
    project_domain_name: fixtures.domainName,
  });
  return stringifyYaml({
    clouds: {
      [cloudName]: { auth: passwordAuth(config.username, config.password), ...common },
      [`${cloudName}-admin`]: {
        auth: passwordAuth(config.adminUsername, config.adminPassword),
        ...common,
      },
      [`${cloudName}-appcred`]: {
        auth_type: 'v3applicationcredential',
        auth: {
          auth_url: authUrl,
          application_credential_id: fixtures.applicationCredential.id,
          application_credential_secret: fixtures.applicationCredential.secret,
        },
        ...common,
      },
    },
  });
}
