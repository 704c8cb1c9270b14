/**
 * Mocha root hooks, loaded through .mocharc.json for every run.
 *
 * Servers (control plane, dockerd, registry, clouds) are started lazily by the
 * test files that need them, once per run, and each start registers its stop
 * here. The root afterAll runs every registered stop, newest first, so no
 * process the harness started outlives the run, whichever tests failed.
 */

type Cleanup = { name: string; run: () => Promise<void> | void };

const cleanups: Cleanup[] = [];

/** Registers a stop function that the root afterAll hook runs once. */
export function registerCleanup(name: string, run: Cleanup['run']): void {
  cleanups.push({ name, run });
}

/** Runs every registered stop, newest first; used by the root hook and by signal handlers. */
export async function runCleanups(): Promise<void> {
  while (cleanups.length > 0) {
    const cleanup = cleanups.pop()!;
    try {
      await cleanup.run();
    } catch (err) {
      console.error(`cleanup ${cleanup.name} failed:`, err);
    }
  }
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void runCleanups().finally(() => process.exit(130));
  });
}

export const mochaHooks = {
  async afterAll(this: Mocha.Context) {
    this.timeout(120_000);
    await runCleanups();
  },
};
