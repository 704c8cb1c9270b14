/**
 * The theoretical minimum time for N ContainerInstances to become Ready,
 * given the per-call latency of the cloud, its BUILD delay and the number of
 * reconciles the operator runs at once.
 *
 * Derivation. Let L be the latency of one OpenStack call, B the BUILD delay,
 * C the concurrency and T_apply the time the benchmark took to create the N
 * objects in kube-apiserver (measured, not a parameter of the operator).
 *
 * 1. Before its first create, any operator needs a token (one Keystone call)
 *    and one server listing that proves no server carries the instance's
 *    tag yet (rule "no duplicate servers"): 2L, shared by every instance.
 * 2. Each instance needs one create call (`POST /servers`), made while a
 *    reconcile occupies one of the C workers. Waiting for BUILD is a
 *    requeue, which frees the worker. N creates on C workers take at
 *    least ceil(N/C) x L. The last create also cannot return before its
 *    object exists plus one call: T_apply + L.
 * 3. The dev cloud starts BUILD when it handles the create, so the last
 *    server turns ACTIVE B after the last create returns, and one more
 *    listing (L) is needed to see it.
 *
 * T_min = max(2L + ceil(N/C) x L, T_apply + L) + B + L
 *
 * Kubernetes writes (finalizer, status) and the operator's own CPU time are
 * not in the bound, because the dev cloud adds no latency to them; they are
 * part of what the ratio measured / T_min shows. Per instance, apply to
 * Ready cannot take less than L + B + L (create, BUILD, listing) once the
 * token and the first listing exist.
 */

/** Inputs of the bound, in milliseconds and counts. */
export interface TheoryInputs {
  instances: number;
  concurrency: number;
  latencyMs: number;
  buildDelayMs: number;
  /** Time from the first to the last create returning in kube-apiserver. */
  applyMs: number;
}

/** Returns T_min in milliseconds, as derived in this file's header. */
export function theoreticalMinimumMs(inputs: TheoryInputs): number {
  const { instances, concurrency, latencyMs: L, buildDelayMs: B, applyMs } = inputs;
  if (!(instances >= 1 && concurrency >= 1)) {
    throw new RangeError(
      `theoretical minimum needs instances >= 1 and concurrency >= 1. Received: ${instances}, ${concurrency}`,
    );
  }
  const createWaves = Math.ceil(instances / concurrency);
  return Math.max(2 * L + createWaves * L, applyMs + L) + B + L;
}

/** Returns the per-instance minimum apply-to-Ready time once token and listing are shared: L + B + L. */
export function perInstanceMinimumMs(latencyMs: number, buildDelayMs: number): number {
  return 2 * latencyMs + buildDelayMs;
}
