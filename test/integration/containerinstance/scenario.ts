/**
 * One scenario file's world: a namespace with the cloud Secret, the real
 * operator (`nova-docker-operator run`) watching it, and helpers to change
 * ContainerInstances and wait for the operator's response.
 */
import { readFile } from 'node:fs/promises';

import {
  CoreV1Api,
  CustomObjectsApi,
  EventsV1Api,
  type EventsV1Event,
} from '@kubernetes/client-node';

import {
  GROUP,
  PLURAL,
  VERSION,
  instanceTag,
  type ContainerInstance,
  type ContainerInstanceSpec,
} from '../../../src/api/index.js';
import { mergePatchOptions } from '../../../src/kube/merge-patch.js';
import type { Server } from '../../../src/openstack/index.js';
import { createTestNamespace } from '../../support/containerinstance-crd.js';
import {
  operatorMain,
  startOperatorProcess,
  type OperatorProcess,
} from '../../support/operator-process.js';
import { waitFor } from '../../support/process.js';
import type { InstanceEnvironment } from './environment.js';

/** Name of the cloud Secret each scenario namespace gets. */
export const CLOUD_SECRET = 'openstack';

/** Options of {@link startScenario}. */
export interface ScenarioOptions {
  /** Extra flags of `run`, after the defaults (later flags win). */
  operatorArgs?: string[];
  /** Extra environment of the operator process. */
  operatorEnv?: NodeJS.ProcessEnv;
  /** Start no operator; the test starts its own with startOperator(). @default false */
  noOperator?: boolean;
}

/** A namespace, its operator and the clients to drive them. */
export class Scenario {
  readonly operators: OperatorProcess[] = [];
  /** Names of the instances created through create(), for cleanup(). */
  readonly #created = new Set<string>();
  readonly #custom: CustomObjectsApi;
  readonly #core: CoreV1Api;
  readonly #events: EventsV1Api;

  constructor(
    readonly env: InstanceEnvironment,
    readonly namespace: string,
    private readonly options: ScenarioOptions,
  ) {
    const kubeConfig = env.controlPlane.kubeConfig();
    this.#custom = kubeConfig.makeApiClient(CustomObjectsApi);
    this.#core = kubeConfig.makeApiClient(CoreV1Api);
    this.#events = kubeConfig.makeApiClient(EventsV1Api);
  }

  /** Returns the flags every operator of this scenario starts with. */
  operatorArgs(extra: string[] = []): string[] {
    return [
      '--kubeconfig',
      this.env.controlPlane.kubeconfigPath,
      '--namespace',
      this.namespace,
      '--default-cloud-secret',
      `${this.namespace}/${CLOUD_SECRET}`,
      '--default-cloud-name',
      this.env.cloud.cloudName,
      '--default-network',
      this.env.cloud.networkName,
      '--poll-interval-active',
      '500ms',
      '--poll-interval-idle',
      '5s',
      ...(this.options.operatorArgs ?? []),
      ...extra,
    ];
  }

  /** Starts one more operator process for this namespace and remembers it for the log checks. */
  async startOperator(
    name: string,
    extraArgs: string[] = [],
    env: NodeJS.ProcessEnv = {},
  ): Promise<OperatorProcess> {
    const operator = await startOperatorProcess(
      `${this.namespace}-${name}`,
      this.operatorArgs(extraArgs),
      { ...this.options.operatorEnv, ...env },
      operatorMain,
    );
    this.operators.push(operator);
    return operator;
  }

  /**
   * Deletes the instances this scenario created and waits until the
   * operator removed them (and their servers), then stops the operators.
   * Instances the operator cannot finish in time are left behind with a
   * warning, so one broken scenario does not fail the others' cleanup.
   */
  async cleanup(timeoutMs = 90_000): Promise<void> {
    const names = [...this.#created];
    await Promise.all(names.map((name) => this.delete(name).catch(() => undefined)));
    try {
      await waitFor(
        `the instances of ${this.namespace} to be deleted`,
        async () =>
          (await Promise.all(names.map((name) => this.get(name)))).every(
            (instance) => instance === undefined,
          ),
        timeoutMs,
        250,
      );
    } catch (err) {
      console.warn(`cleanup of ${this.namespace} left instances behind: ${(err as Error).message}`);
    }
    await Promise.all(this.operators.map((operator) => operator.server.stop()));
  }

  /** Returns the text of every operator log of this scenario. */
  async operatorLogs(): Promise<string> {
    const texts = await Promise.all(
      this.operators.map((operator) => readFile(operator.logPath, 'utf8')),
    );
    return texts.join('\n');
  }

  /** Creates a Secret in the scenario namespace with string data. */
  async createSecret(name: string, data: Record<string, string>, type = 'Opaque'): Promise<void> {
    await this.#core.createNamespacedSecret({
      namespace: this.namespace,
      body: { metadata: { name }, type, stringData: data },
    });
  }

  /** Replaces the data of a Secret. */
  async updateSecret(name: string, data: Record<string, string>): Promise<void> {
    await this.#core.replaceNamespacedSecret({
      name,
      namespace: this.namespace,
      body: { metadata: { name }, stringData: data },
    });
  }

  /** Creates a ContainerInstance and returns it as stored (with its UID). */
  async create(name: string, spec: Partial<ContainerInstanceSpec>): Promise<ContainerInstance> {
    this.#created.add(name);
    const body = {
      apiVersion: `${GROUP}/${VERSION}`,
      kind: 'ContainerInstance',
      metadata: { name, namespace: this.namespace },
      spec: { image: this.env.images.v1, flavor: this.env.cloud.flavor, ...spec },
    };
    return (await this.#custom.createNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      plural: PLURAL,
      namespace: this.namespace,
      body,
    })) as ContainerInstance;
  }

  /** Returns the instance, or undefined once the apiserver no longer has it. */
  async get(name: string): Promise<ContainerInstance | undefined> {
    try {
      return (await this.#custom.getNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        plural: PLURAL,
        namespace: this.namespace,
        name,
      })) as ContainerInstance;
    } catch (err) {
      if ((err as { code?: number }).code === 404) return undefined;
      throw err;
    }
  }

  /** Applies a JSON merge patch to the spec. */
  async patchSpec(name: string, spec: Record<string, unknown>): Promise<ContainerInstance> {
    return (await this.#custom.patchNamespacedCustomObject(
      {
        group: GROUP,
        version: VERSION,
        plural: PLURAL,
        namespace: this.namespace,
        name,
        body: { spec },
      },
      mergePatchOptions,
    )) as ContainerInstance;
  }

  /** Deletes the instance; the finalizer keeps it until the operator is done. */
  async delete(name: string): Promise<void> {
    await this.#custom.deleteNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      plural: PLURAL,
      namespace: this.namespace,
      name,
    });
  }

  /** Polls the instance until check returns true; returns the last copy read. */
  async waitFor(
    name: string,
    description: string,
    check: (instance: ContainerInstance) => boolean,
    timeoutMs = 90_000,
  ): Promise<ContainerInstance> {
    let last: ContainerInstance | undefined;
    try {
      await waitFor(
        `${this.namespace}/${name}: ${description}`,
        async () => {
          last = await this.get(name);
          return last !== undefined && check(last);
        },
        timeoutMs,
        250,
      );
    } catch (err) {
      throw new Error(
        `${(err as Error).message}\nlast status: ${JSON.stringify(last?.status, null, 2)}`,
        {
          cause: err,
        },
      );
    }
    return last!;
  }

  /** Waits until the instance is Ready and observes its current generation. */
  async waitForReady(name: string, timeoutMs = 120_000): Promise<ContainerInstance> {
    return this.waitFor(
      name,
      'Ready=True at the current generation',
      (instance) =>
        instance.status?.observedGeneration === instance.metadata.generation &&
        condition(instance, 'Ready')?.status === 'True',
      timeoutMs,
    );
  }

  /** Waits until the apiserver no longer has the instance. */
  async waitForGone(name: string, timeoutMs = 90_000): Promise<void> {
    await waitFor(
      `${this.namespace}/${name} to be deleted`,
      async () => (await this.get(name)) === undefined,
      timeoutMs,
      250,
    );
  }

  /** Returns the Events about an instance, oldest first. */
  async events(name: string): Promise<EventsV1Event[]> {
    const list = await this.#events.listNamespacedEvent({ namespace: this.namespace });
    return list.items
      .filter((event) => event.regarding?.name === name)
      .sort((a, b) => String(a.eventTime ?? '').localeCompare(String(b.eventTime ?? '')));
  }

  /** Waits for an Event with this reason about the instance and returns it. */
  async waitForEvent(name: string, reason: string, timeoutMs = 60_000): Promise<EventsV1Event> {
    let found: EventsV1Event | undefined;
    await waitFor(
      `Event ${reason} about ${this.namespace}/${name}`,
      async () => {
        found = (await this.events(name)).find((event) => event.reason === reason);
        return found !== undefined;
      },
      timeoutMs,
      250,
    );
    return found!;
  }

  /** Returns the live servers carrying the instance's tag, as the member user sees them. */
  async servers(instance: ContainerInstance): Promise<Server[]> {
    const servers = await this.env.cloud.client.compute.listServers({
      tags: [instanceTag(instance.metadata.uid!)],
    });
    return servers.filter(
      (server) => server.status !== 'DELETED' && server.status !== 'SOFT_DELETED',
    );
  }

  /** Returns the environment of the server's container as a map. */
  async containerEnv(serverID: string): Promise<Record<string, string>> {
    const info = await this.env.docker.docker.getContainer(`nova-${serverID}`).inspect();
    return Object.fromEntries(
      (info.Config.Env ?? []).map((entry) => {
        const equals = entry.indexOf('=');
        return [entry.slice(0, equals), entry.slice(equals + 1)];
      }),
    );
  }
}

/** Returns the condition of this type, if any. */
export function condition(instance: ContainerInstance, type: string) {
  return instance.status?.conditions?.find((candidate) => candidate.type === type);
}

/**
 * Creates the scenario's namespace and cloud Secret (the dev cloud's
 * clouds.yaml) and starts its operator unless noOperator is set.
 */
export async function startScenario(
  env: InstanceEnvironment,
  prefix: string,
  options: ScenarioOptions = {},
): Promise<Scenario> {
  const namespace = await createTestNamespace(env.controlPlane, prefix);
  const scenario = new Scenario(env, namespace, options);
  await scenario.createSecret(CLOUD_SECRET, { 'clouds.yaml': env.cloud.cloudsYaml });
  if (!options.noOperator) await scenario.startOperator('operator');
  return scenario;
}
