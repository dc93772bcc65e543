/**
 * ModelRollouts as custom resources, through @kubernetes/client-node 2.0 (loaded only in Kubernetes mode):
 * - an informer (list, then watch from the list's resourceVersion; a relist when the watch ends or fails) keeps
 *   the documents, and the controller's own resync timer reconciles all of them periodically besides;
 * - status is written through the `/status` subresource with PUT (replace) carrying metadata.resourceVersion,
 *   so a document changed since it was read answers 409 Conflict: the controller reads it again and puts its
 *   status onto the fresh object (status is the controller's alone, so that is safe);
 * - events are core/v1 Events about the object (involvedObject with its uid and resourceVersion), as
 *   `kubectl describe` shows them.
 * Least privilege (k8s/components/rollouts/rbac.yaml): get/list/watch on modelrollouts, get/update on
 * modelrollouts/status, create/patch on events, and get/create/update on one Lease for the leader election.
 */
import type * as K8s from '@kubernetes/client-node';
import type { Logger } from '@maas/shared';
import { API_GROUP, API_VERSION, KIND, PLURAL, type ModelRolloutDocument, type ModelRolloutStatus } from './model-rollout.js';
import type { RolloutEvent, RolloutStore } from './rollout-store.js';

/** The component named in events' source and reportingController. */
export const CONTROLLER_NAME = 'maas.dev/rollout-controller';
/** Most conflict retries of one status write. */
const MAX_STATUS_ATTEMPTS = 5;

type K8sModule = typeof K8s;

/** Loads @kubernetes/client-node (an ES module) from this CommonJS package. */
export function loadKubernetesClient(): Promise<K8sModule> {
  return import('@kubernetes/client-node');
}

export function httpStatusOf(error: unknown): number | undefined {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'number' ? code : undefined;
}

export class KubeRolloutStore implements RolloutStore {
  private readonly custom: K8s.CustomObjectsApi;
  private readonly core: K8s.CoreV1Api;
  private readonly informer: K8s.Informer<K8s.KubernetesObject> & K8s.ObjectCache<K8s.KubernetesObject>;
  private readonly listeners: Array<() => void> = [];
  private stopped = false;

  private constructor(
    k8s: K8sModule,
    kubeConfig: K8s.KubeConfig,
    private readonly options: { namespace: string; logger: Logger; instance: string },
  ) {
    this.custom = kubeConfig.makeApiClient(k8s.CustomObjectsApi);
    this.core = kubeConfig.makeApiClient(k8s.CoreV1Api);
    const { namespace } = options;
    this.informer = k8s.makeInformer(kubeConfig, `/apis/${API_GROUP}/${API_VERSION}/namespaces/${namespace}/${PLURAL}`, () =>
      this.custom.listNamespacedCustomObject({ group: API_GROUP, version: API_VERSION, namespace, plural: PLURAL }),
    );
    const changed = () => {
      for (const listener of this.listeners) listener();
    };
    this.informer.on('add', changed);
    this.informer.on('update', changed);
    this.informer.on('delete', changed);
    this.informer.on('error', (error) => {
      if (this.stopped) return;
      this.options.logger.warn({ err: error }, 'ModelRollout watch failed; relisting in 5 s');
      setTimeout(() => void this.informer.start().catch(() => undefined), 5_000).unref();
    });
  }

  static async start(options: {
    namespace: string;
    logger: Logger;
    instance: string;
  }): Promise<{ store: KubeRolloutStore; k8s: K8sModule; kubeConfig: K8s.KubeConfig }> {
    const k8s = await loadKubernetesClient();
    const kubeConfig = new k8s.KubeConfig();
    // In a pod: the service account's token and the API server from the environment; else ~/.kube/config.
    kubeConfig.loadFromDefault();
    const store = new KubeRolloutStore(k8s, kubeConfig, options);
    await store.informer.start();
    return { store, k8s, kubeConfig };
  }

  async list(): Promise<ModelRolloutDocument[]> {
    return this.informer.list(this.options.namespace).map((object) => structuredClone(object) as unknown as ModelRolloutDocument);
  }

  async writeStatus(doc: ModelRolloutDocument, status: ModelRolloutStatus): Promise<void> {
    const { namespace } = this.options;
    let current: ModelRolloutDocument = doc;
    for (let attempt = 1; ; attempt += 1) {
      try {
        await this.custom.replaceNamespacedCustomObjectStatus({
          group: API_GROUP,
          version: API_VERSION,
          namespace,
          plural: PLURAL,
          name: doc.metadata.name,
          // The whole object with its resourceVersion: the API server refuses it (409) if it changed since.
          body: { apiVersion: current.apiVersion, kind: current.kind, metadata: current.metadata, spec: current.spec, status },
          fieldManager: 'maas-rollout-controller',
        });
        return;
      } catch (error) {
        if (httpStatusOf(error) === 404) return; // deleted meanwhile: nothing to report on
        if (httpStatusOf(error) !== 409 || attempt >= MAX_STATUS_ATTEMPTS) throw error;
        current = (await this.custom.getNamespacedCustomObject({
          group: API_GROUP,
          version: API_VERSION,
          namespace,
          plural: PLURAL,
          name: doc.metadata.name,
        })) as ModelRolloutDocument;
      }
    }
  }

  async recordEvent(doc: ModelRolloutDocument, event: RolloutEvent): Promise<void> {
    const now = new Date();
    try {
      await this.core.createNamespacedEvent({
        namespace: this.options.namespace,
        body: {
          metadata: { generateName: `${doc.metadata.name}.`, namespace: this.options.namespace },
          involvedObject: {
            apiVersion: `${API_GROUP}/${API_VERSION}`,
            kind: KIND,
            name: doc.metadata.name,
            namespace: this.options.namespace,
            uid: doc.metadata.uid,
            resourceVersion: doc.metadata.resourceVersion,
          },
          type: event.type,
          reason: event.reason,
          message: event.message,
          source: { component: CONTROLLER_NAME },
          reportingComponent: CONTROLLER_NAME,
          reportingInstance: this.options.instance,
          firstTimestamp: now,
          lastTimestamp: now,
          eventTime: now,
          action: event.reason,
          count: 1,
        },
      });
    } catch (error) {
      // An event is a record, not a step: failing to write one never stops a rollout.
      this.options.logger.warn({ err: error, reason: event.reason }, 'could not record a Kubernetes event');
    }
  }

  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  stop(): void {
    this.stopped = true;
    void this.informer.stop();
  }
}

/**
 * Leader election on a coordination.k8s.io/v1 Lease, as client-go's leaderelection does: the holder renews
 * renewTime every retry period; another replica takes the lease once renewTime is older than
 * leaseDurationSeconds. Every update is a PUT with the lease's resourceVersion, so two replicas racing for it
 * cannot both win (the loser gets 409). Only the leader reconciles.
 */
export class LeaseLeaderElector {
  private timer: NodeJS.Timeout | undefined;
  private leader = false;
  private stopped = false;
  private readonly coordination: K8s.CoordinationV1Api;

  constructor(
    k8s: K8sModule,
    kubeConfig: K8s.KubeConfig,
    private readonly options: {
      namespace: string;
      leaseName: string;
      identity: string;
      leaseDurationSeconds: number;
      retryPeriodMs: number;
      logger: Logger;
      onChange: (leader: boolean) => void;
    },
  ) {
    this.coordination = kubeConfig.makeApiClient(k8s.CoordinationV1Api);
  }

  get isLeader(): boolean {
    return this.leader;
  }

  start(): void {
    this.stopped = false;
    const loop = async () => {
      let leader = false;
      try {
        leader = await this.tryAcquireOrRenew();
      } catch (error) {
        this.options.logger.warn({ err: error }, 'leader election: lease update failed');
      }
      // A stop while the Lease call was in flight: neither lead nor try again.
      if (this.stopped) return;
      this.setLeader(leader);
      this.timer = setTimeout(() => void loop(), this.options.retryPeriodMs);
    };
    void loop();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.setLeader(false);
  }

  private setLeader(leader: boolean): void {
    if (leader === this.leader) return;
    this.leader = leader;
    this.options.logger.info({ leader, identity: this.options.identity }, leader ? 'became the leader' : 'not the leader');
    this.options.onChange(leader);
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const { namespace, leaseName: name, identity, leaseDurationSeconds } = this.options;
    const now = new Date();
    let lease: K8s.V1Lease;
    try {
      lease = await this.coordination.readNamespacedLease({ name, namespace });
    } catch (error) {
      if (httpStatusOf(error) !== 404) throw error;
      await this.coordination.createNamespacedLease({
        namespace,
        body: {
          metadata: { name, namespace },
          spec: {
            holderIdentity: identity,
            leaseDurationSeconds,
            acquireTime: now as unknown as K8s.V1MicroTime,
            renewTime: now as unknown as K8s.V1MicroTime,
            leaseTransitions: 0,
          },
        },
      });
      return true;
    }
    const spec = lease.spec ?? {};
    const holder = spec.holderIdentity;
    const renewedAt = spec.renewTime ? new Date(spec.renewTime as unknown as string).getTime() : 0;
    const expired = renewedAt + (spec.leaseDurationSeconds ?? leaseDurationSeconds) * 1000 < now.getTime();
    if (holder && holder !== identity && !expired) return false;
    const taking = holder !== identity;
    lease.spec = {
      ...spec,
      holderIdentity: identity,
      leaseDurationSeconds,
      renewTime: now as unknown as K8s.V1MicroTime,
      ...(taking ? { acquireTime: now as unknown as K8s.V1MicroTime, leaseTransitions: (spec.leaseTransitions ?? 0) + 1 } : {}),
    };
    try {
      await this.coordination.replaceNamespacedLease({ name, namespace, body: lease });
      return true;
    } catch (error) {
      if (httpStatusOf(error) === 409) return false; // another replica updated it first
      throw error;
    }
  }
}
