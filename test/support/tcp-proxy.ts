/**
 * A TCP relay between a client and the real kube-apiserver that can drop,
 * refuse or freeze connections on demand. No real server drops a watch
 * connection at a chosen moment, so tests put this relay in the path to
 * produce that network fault. Every byte still comes from the real server.
 */
import { once } from 'node:events';
import net from 'node:net';

import { KubeConfig } from '@kubernetes/client-node';

import { registerCleanup } from './hooks.js';

/** A running relay on 127.0.0.1. */
export interface TcpProxy {
  port: number;
  /** Destroys every open connection; new connections are still accepted. */
  dropConnections(): void;
  /** Drops every connection and refuses new ones until resume(). */
  refuse(): void;
  /** Accepts connections again after refuse(). */
  resume(): void;
  /** Stops relaying data on the open connections without closing them; new connections relay normally. */
  freezeConnections(): void;
  /** Number of connections accepted so far. */
  connectionCount(): number;
  close(): Promise<void>;
}

/** Starts a relay from a free port on 127.0.0.1 to targetPort on 127.0.0.1; the root hook closes it. */
export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  const open = new Set<{ client: net.Socket; upstream: net.Socket }>();
  const frozen = new Set<{ client: net.Socket; upstream: net.Socket }>();
  let refusing = false;
  let accepted = 0;

  const server = net.createServer((client) => {
    if (refusing) {
      client.destroy();
      return;
    }
    accepted += 1;
    const upstream = net.connect(targetPort, '127.0.0.1');
    const pair = { client, upstream };
    open.add(pair);
    client.pipe(upstream);
    upstream.pipe(client);
    const close = () => {
      client.destroy();
      upstream.destroy();
      open.delete(pair);
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;

  const dropConnections = () => {
    for (const { client, upstream } of open) {
      client.destroy();
      upstream.destroy();
    }
    open.clear();
  };
  const proxy: TcpProxy = {
    port,
    dropConnections,
    refuse() {
      refusing = true;
      dropConnections();
    },
    resume() {
      refusing = false;
    },
    freezeConnections() {
      for (const { client, upstream } of open) {
        client.unpipe(upstream);
        upstream.unpipe(client);
        client.pause();
        upstream.pause();
        frozen.add({ client, upstream });
      }
      // Frozen connections stay open until close(), and later drops skip them.
      open.clear();
    },
    connectionCount: () => accepted,
    async close() {
      dropConnections();
      for (const { client, upstream } of frozen) {
        client.destroy();
        upstream.destroy();
      }
      frozen.clear();
      if (!server.listening) return;
      const closed = once(server, 'close');
      server.close();
      await closed;
    },
  };
  registerCleanup(`tcp proxy ${port}`, () => proxy.close());
  return proxy;
}

/** Returns a copy of kubeConfig whose current cluster is reached through the relay on proxyPort. */
export function kubeConfigThrough(kubeConfig: KubeConfig, proxyPort: number): KubeConfig {
  const copy = new KubeConfig();
  copy.loadFromOptions({
    clusters: kubeConfig.clusters.map((cluster) => ({
      ...cluster,
      server: `https://127.0.0.1:${proxyPort}`,
    })),
    users: kubeConfig.users,
    contexts: kubeConfig.contexts,
    currentContext: kubeConfig.currentContext,
  });
  return copy;
}
