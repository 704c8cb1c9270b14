/**
 * A small HTTPS client for the benchmark's own calls to kube-apiserver:
 * creates, lists, watches and /metrics. It counts every request it sends by
 * verb and resource, so the benchmark can subtract its own traffic from the
 * apiserver's request counters and report what the operator alone sent.
 */
import https from 'node:https';

import type { KubeConfig } from '@kubernetes/client-node';

/** A parsed JSON response, or the error text when the status is not 2xx. */
export interface KubeResponse<T> {
  status: number;
  body: T;
}

/** Requests this client sent, keyed `VERB resource[/subresource]` as apiserver_request_total labels them. */
export type RequestTally = Map<string, number>;

/**
 * Sends requests with the credentials of a kubeconfig over a keep-alive
 * agent. Rejects on connection errors; HTTP errors resolve with their status
 * so callers decide what a 409 or 410 means.
 */
export class KubeClient {
  readonly server: string;
  readonly tally: RequestTally = new Map();
  private readonly agent: https.Agent;

  private constructor(server: string, agent: https.Agent) {
    this.server = server;
    this.agent = agent;
  }

  /**
   * Builds a client for the current context of kubeConfig.
   * @param maxSockets connections kept open to the apiserver at most
   */
  static async fromKubeConfig(kubeConfig: KubeConfig, maxSockets = 64): Promise<KubeClient> {
    const cluster = kubeConfig.getCurrentCluster();
    if (!cluster) {
      throw new Error('kubeconfig has no current cluster; pass the control plane kubeconfig');
    }
    const options: https.RequestOptions = {};
    await kubeConfig.applyToHTTPSOptions(options);
    const agent = new https.Agent({
      keepAlive: true,
      maxSockets,
      ca: options.ca,
      cert: options.cert,
      key: options.key,
    });
    return new KubeClient(cluster.server, agent);
  }

  /**
   * Sends one request and parses the JSON body. `tallyKey` names the request
   * in apiserver_request_total terms, such as `POST containerinstances`;
   * requests without one (like /metrics) are not resource requests there.
   */
  async request<T = unknown>(
    method: string,
    path: string,
    options: { body?: unknown; contentType?: string; tallyKey?: string } = {},
  ): Promise<KubeResponse<T>> {
    if (options.tallyKey) this.count(options.tallyKey);
    const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
    const response = await this.send(method, path, payload, options.contentType);
    const text = await readText(response);
    const status = response.statusCode ?? 0;
    if (status < 200 || status >= 300) return { status, body: text as T };
    const type = response.headers['content-type'] ?? '';
    return { status, body: (type.includes('json') ? JSON.parse(text) : text) as T };
  }

  /**
   * Opens a watch (or any streaming GET) and calls onLine for each
   * newline-delimited line. Resolves when the server ends the stream;
   * rejects on a non-2xx status with the body. The signal aborts it.
   * kube-apiserver counts a watch when it ends, so the tally does too.
   */
  async stream(
    path: string,
    onLine: (line: string) => void,
    signal: AbortSignal,
    tallyKey?: string,
  ): Promise<void> {
    const response = await this.send('GET', path, undefined, undefined, signal);
    const status = response.statusCode ?? 0;
    if (status < 200 || status >= 300) {
      throw new Error(`GET ${path} failed with ${status}: ${await readText(response)}`);
    }
    response.setEncoding('utf8');
    let buffered = '';
    try {
      for await (const chunk of response as AsyncIterable<string>) {
        buffered += chunk;
        let newline = buffered.indexOf('\n');
        while (newline >= 0) {
          const line = buffered.slice(0, newline);
          buffered = buffered.slice(newline + 1);
          if (line.trim() !== '') onLine(line);
          newline = buffered.indexOf('\n');
        }
      }
    } catch (err) {
      if (!signal.aborted) throw err;
    } finally {
      if (tallyKey) this.count(tallyKey);
    }
  }

  /** Closes idle connections. */
  close(): void {
    this.agent.destroy();
  }

  private count(key: string): void {
    this.tally.set(key, (this.tally.get(key) ?? 0) + 1);
  }

  private send(
    method: string,
    path: string,
    payload: string | undefined,
    contentType = 'application/json',
    signal?: AbortSignal,
  ): Promise<import('node:http').IncomingMessage> {
    const url = new URL(path, this.server);
    return new Promise((resolve, reject) => {
      const request = https.request(
        url,
        {
          method,
          agent: this.agent,
          signal,
          headers: {
            Accept: 'application/json',
            ...(payload === undefined
              ? {}
              : { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(payload) }),
          },
        },
        resolve,
      );
      request.on('error', (err) =>
        reject(new Error(`${method} ${url.pathname} failed: ${err.message}`, { cause: err })),
      );
      request.end(payload);
    });
  }
}

async function readText(response: import('node:http').IncomingMessage): Promise<string> {
  response.setEncoding('utf8');
  let text = '';
  for await (const chunk of response as AsyncIterable<string>) text += chunk;
  return text;
}
