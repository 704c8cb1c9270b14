/**
 * Public interface of the OpenStack client. Callers import from here only.
 *
 * ```ts
 * const config = loadCloudConfig({ cloud: 'prod' });   // or cloudConfigFromString(secretText, { caCert })
 * const clients = new OpenStackClientCache({ logger, observer });
 * const cloud = clients.get(config);                    // one session per resolved configuration
 * const servers = await cloud.compute.listServers({ tags: ['owner-uid'] });
 * ```
 */
import { ComputeClient } from './compute.js';
import type { CloudConfig } from './config.js';
import { ImageClient } from './image.js';
import { NetworkClient } from './network.js';
import { hashConfig, Session, type SessionOptions } from './session.js';

export { ComputeClient, type RebootType, type RebuildRequest } from './compute.js';
export type {
  CreatedServer,
  CreateServerRequest,
  Flavor,
  ListServersOptions,
  Server,
  ServerAddress,
  ServerFault,
  ServerFlavor,
} from './compute-types.js';
export {
  CloudConfigError,
  type ApplicationCredentialAuth,
  type AuthScope,
  type CloudAuth,
  type CloudConfig,
  type EndpointInterface,
  type PasswordAuth,
  type TokenAuth,
} from './config.js';
export {
  cloudConfigFromString,
  configSearchPath,
  loadCloudConfig,
  type FromStringOptions,
  type LoadOptions,
} from './config-sources.js';
export {
  isErrorClass,
  OpenStackError,
  OpenStackLookupError,
  type ErrorClass,
  type ServiceType,
} from './errors.js';
export {
  ImageClient,
  type CreateImageRequest,
  type Image,
  type ImageDownload,
  type ImagePatchOperation,
  type ListImagesOptions,
  type UploadResult,
} from './image.js';
export { clientMaxMicroversion, requiredMicroversions } from './microversion.js';
export { NetworkClient, type Network, type Port, type SecurityGroup } from './network.js';
export { defaultRetryPolicy, type RetryPolicy } from './retry.js';
export { Secret } from './secret.js';
export { hashConfig, Session, type CallOptions, type SessionOptions } from './session.js';
export type { RequestEvent, RequestObserver } from './transport.js';

/** The service clients of one authenticated session. */
export class OpenStackClient {
  readonly compute: ComputeClient;
  readonly image: ImageClient;
  readonly network: NetworkClient;

  constructor(readonly session: Session) {
    this.compute = new ComputeClient(session);
    this.image = new ImageClient(session);
    this.network = new NetworkClient(session);
  }

  /** Name of the cloud in clouds.yaml. */
  get cloudName(): string {
    return this.session.cloudName;
  }

  /** Closes the session's connections. */
  close(): Promise<void> {
    return this.session.close();
  }
}

/**
 * Opens a client for one cloud. Most callers want {@link OpenStackClientCache},
 * which shares one session per credential.
 */
export function openCloud(config: CloudConfig, options: SessionOptions = {}): OpenStackClient {
  return new OpenStackClient(new Session(config, options));
}

/**
 * Clients keyed by a hash of the resolved configuration, secrets included:
 * the same configuration returns the same client (one token, one
 * microversion negotiation), and a rotated credential returns a new one.
 * The least recently used client beyond `maxClients` is closed: requests in
 * flight finish, later calls on it fail with a network error.
 *
 * NOTE: a rotated credential leaves the old client open until eviction or
 * close(); callers that rotate often should size `maxClients` to the number of
 * clouds they use at once.
 */
export class OpenStackClientCache {
  readonly #clients = new Map<string, OpenStackClient>();
  readonly #options: SessionOptions;
  readonly #maxClients: number;

  /** @param options.maxClients @default 32 */
  constructor(options: SessionOptions & { maxClients?: number } = {}) {
    const { maxClients, ...sessionOptions } = options;
    this.#options = sessionOptions;
    this.#maxClients = maxClients ?? 32;
  }

  /** Returns the client for the configuration, opening a session on first use. It does not contact the cloud, so it cannot fail on one. */
  get(config: CloudConfig): OpenStackClient {
    const key = hashConfig(config);
    const existing = this.#clients.get(key);
    if (existing !== undefined) {
      // Re-insert to mark it most recently used.
      this.#clients.delete(key);
      this.#clients.set(key, existing);
      return existing;
    }

    const client = openCloud(config, this.#options);
    this.#clients.set(key, client);
    while (this.#clients.size > this.#maxClients) {
      const [oldestKey, oldest] = this.#clients.entries().next().value!;
      this.#clients.delete(oldestKey);
      void oldest.close();
    }
    return client;
  }

  /** Number of open clients. */
  get size(): number {
    return this.#clients.size;
  }

  /** Closes every client. */
  async close(): Promise<void> {
    const clients = [...this.#clients.values()];
    this.#clients.clear();
    await Promise.all(clients.map((client) => client.close()));
  }
}
