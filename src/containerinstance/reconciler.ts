/**
 * The ContainerInstance reconciler: finalizer, cloud, environment,
 * observation, image, then one converging step, with every failure
 * classified and recorded in one place.
 */
import { validateContainerInstance, type ContainerInstance } from '../api/index.js';
import {
  done,
  terminalError,
  transientError,
  type ReconcileResult,
  type Reconciler,
} from '../controller/reconciler.js';
import { converge } from './converge.js';
import type { ReconcilerDeps } from './deps.js';
import { resolveEnv } from './env.js';
import { classifyError, stalled } from './failures.js';
import { finalize, hasOperatorFinalizer } from './finalize.js';
import { ensureImage } from './image-step.js';
import { InstanceMemories, type InstanceMemory } from './instance-memory.js';
import { observe } from './observe.js';
import { ReconcileRun } from './reconcile-run.js';

/**
 * Reconciles ContainerInstances onto Nova-Docker servers. A reconcile never
 * waits for Nova or for an image upload: it takes at most one step that
 * changes the server, writes the status, and requeues or waits for the
 * server observer to report the change.
 */
export class ContainerInstanceReconciler implements Reconciler<ContainerInstance> {
  readonly #deps: ReconcilerDeps;
  readonly #memories = new InstanceMemories();

  constructor(deps: ReconcilerDeps) {
    this.#deps = deps;
  }

  /** Returns the work queue keys of the instances with these UIDs that this process reconciled before. */
  keysOf(uids: readonly string[]): string[] {
    return uids.map((uid) => this.#memories.keyOf(uid)).filter((key) => key !== undefined);
  }

  /**
   * Runs one reconcile. Returns done when the instance matches its spec,
   * a requeue while a server or an image is in progress, a transient error
   * for the work queue's backoff, or a terminal error when the instance is
   * Stalled. Never throws.
   */
  async reconcile(key: string, object: ContainerInstance | undefined): Promise<ReconcileResult> {
    if (object === undefined) {
      const uid = this.#memories.forgetKey(key);
      if (uid !== undefined) {
        this.#deps.images.forget(uid);
        this.#deps.observer.release(uid);
      }
      return done();
    }

    const run = new ReconcileRun(
      object,
      this.#deps.logger,
      this.#deps.statusWriter,
      this.#deps.events,
    );
    const memory = this.#memories.get(run.uid, key);
    try {
      if (object.metadata.deletionTimestamp !== undefined) {
        const result = await finalize(this.#deps, run, memory);
        if (!hasOperatorFinalizer(run.object) || result.kind === 'done') this.#forget(key, run.uid);
        return result;
      }
      return await this.#sync(run, memory);
    } catch (err) {
      const failure = classifyError(err, splitWords(run.action));
      run.fail(failure);
      await this.#flushAfterFailure(run);
      return failure.kind === 'stalled'
        ? terminalError(failure)
        : transientError(failure, failure.retryAfterMs);
    }
  }

  async #sync(run: ReconcileRun, memory: InstanceMemory): Promise<ReconcileResult> {
    run.status.phase ??= 'Pending';

    // The finalizer comes first, so no cloud resource can exist without it.
    run.action = 'AddFinalizer';
    if (!hasOperatorFinalizer(run.object)) {
      run.object = await this.#deps.finalizers.add(run.object);
    }

    run.action = 'ValidateSpec';
    const validation = validateContainerInstance(run.object);
    if (!validation.valid) {
      throw stalled(
        'InvalidSpec',
        `the spec is invalid: ${validation.errors.join('; ')}; fix the spec`,
      );
    }

    run.action = 'ResolveCloud';
    const cloud = await this.#deps.clouds.resolve(run.object);
    memory.cloud = cloud;

    run.action = 'ResolveEnv';
    const metadata = resolveEnv(run.object, this.#deps.secrets);

    run.action = 'ObserveServer';
    const observation = await observe(this.#deps.observer, run, memory, cloud);

    run.action = 'PublishImage';
    const image = ensureImage(
      run,
      this.#deps.images,
      this.#deps.publish,
      cloud,
      this.#deps.secrets,
    );

    run.action = 'Converge';
    return converge(this.#deps, run, memory, { cloud, observation, image, metadata });
  }

  /** Writes the status after a failure; a failure of that write is logged only, since the reconcile already failed. */
  async #flushAfterFailure(run: ReconcileRun): Promise<void> {
    if (run.object.metadata.deletionTimestamp !== undefined && !hasOperatorFinalizer(run.object))
      return;
    try {
      await run.flush();
    } catch (err) {
      run.log.warn({ err }, 'writing the status after a failed reconcile failed too');
    }
  }

  #forget(key: string, uid: string): void {
    this.#memories.forgetKey(key);
    this.#deps.images.forget(uid);
    this.#deps.observer.release(uid);
  }
}

/** Turns a CamelCase step name into words for messages: CreateServer becomes "create server". */
function splitWords(action: string): string {
  return action.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase();
}
