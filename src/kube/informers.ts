import {
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
  type V1Secret,
} from '@kubernetes/client-node';

import { Informer, type InformerOptions } from './informer.js';
import type { CustomResourceType } from './resource.js';

/** Options shared by the informer factories; list, path and name are filled in. */
export type InformerFactoryOptions<T extends KubernetesObject> = Omit<
  InformerOptions<T>,
  'kubeConfig' | 'path' | 'list' | 'name'
> & {
  /** Watch one namespace only; undefined or '' watches all namespaces. */
  namespace?: string;
  /** Page size of the initial list and of relists. @default 500 */
  pageSize?: number;
  /** @default the resource's plural */
  name?: string;
};

type Page<T> = { items: T[]; metadata?: { resourceVersion?: string; continue?: string } };

/**
 * Lists a collection page by page and joins the pages. All pages come from
 * one snapshot, so the first page's resourceVersion is the whole list's.
 */
async function listAllPages<T extends KubernetesObject>(
  fetchPage: (continueToken: string | undefined, limit: number) => Promise<Page<T>>,
  pageSize: number,
): Promise<KubernetesListObject<T>> {
  const items: T[] = [];
  let resourceVersion: string | undefined;
  let continueToken: string | undefined;
  do {
    const page = await fetchPage(continueToken, pageSize);
    items.push(...page.items);
    resourceVersion ??= page.metadata?.resourceVersion;
    continueToken = page.metadata?.continue || undefined;
  } while (continueToken);
  return { items, metadata: { resourceVersion } };
}

/**
 * Creates an informer over a namespaced custom resource, in one namespace or
 * all of them, optionally filtered by a label selector so that several
 * operator deployments can each own a share of the objects.
 */
export function customResourceInformer<T extends KubernetesObject>(
  kubeConfig: KubeConfig,
  type: CustomResourceType,
  options: InformerFactoryOptions<T>,
): Informer<T> {
  const api = kubeConfig.makeApiClient(CustomObjectsApi);
  const { group, version, plural } = type;
  const namespace = options.namespace || undefined;
  const path = namespace
    ? `/apis/${group}/${version}/namespaces/${encodeURIComponent(namespace)}/${plural}`
    : `/apis/${group}/${version}/${plural}`;
  const common = { labelSelector: options.labelSelector, fieldSelector: options.fieldSelector };

  const list = () =>
    listAllPages<T>(async (continueToken, limit) => {
      const page = namespace
        ? await api.listNamespacedCustomObject({
            group,
            version,
            plural,
            namespace,
            ...common,
            limit,
            _continue: continueToken,
          })
        : await api.listClusterCustomObject({
            group,
            version,
            plural,
            ...common,
            limit,
            _continue: continueToken,
          });
      return page as Page<T>;
    }, options.pageSize ?? 500);

  return new Informer<T>({ ...options, name: options.name ?? plural, kubeConfig, path, list });
}

/**
 * Creates an informer over Secrets, in one namespace or all of them, with
 * optional label and field selectors. Cached Secrets contain their data, so the
 * process memory contains credentials, and callers must never log these objects.
 */
export function secretInformer(
  kubeConfig: KubeConfig,
  options: InformerFactoryOptions<V1Secret>,
): Informer<V1Secret> {
  const api = kubeConfig.makeApiClient(CoreV1Api);
  const namespace = options.namespace || undefined;
  const path = namespace
    ? `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets`
    : '/api/v1/secrets';
  const common = { labelSelector: options.labelSelector, fieldSelector: options.fieldSelector };

  const list = () =>
    listAllPages<V1Secret>(async (continueToken, limit) => {
      const page = namespace
        ? await api.listNamespacedSecret({ namespace, ...common, limit, _continue: continueToken })
        : await api.listSecretForAllNamespaces({ ...common, limit, _continue: continueToken });
      // The typed client returns class instances (Date timestamps) while watch
      // events are plain JSON; a JSON round trip gives the cache one shape.
      return {
        items: JSON.parse(JSON.stringify(page.items)) as V1Secret[],
        metadata: {
          resourceVersion: page.metadata?.resourceVersion,
          continue: page.metadata?._continue,
        },
      };
    }, options.pageSize ?? 500);

  return new Informer<V1Secret>({
    ...options,
    name: options.name ?? 'secrets',
    kubeConfig,
    path,
    list,
  });
}
