// Scenario steps for the multi-process tests.
import { test, type TestContext } from 'node:test';

/**
 * Steps of one scenario on a shared cluster, each a test: once a step fails the later ones skip
 * (saying which failed); the failing one prints `diagnostics()` (the cluster's last warnings) and
 * every step its duration.
 */
export function sequentialSteps(skip: string | false, diagnostics: () => readonly string[]): (name: string, fn: (t: TestContext) => Promise<void>) => void {
  let failedStep: string | null = null;
  return (name, fn) => {
    test(name, { skip }, async (t) => {
      if (failedStep !== null) {
        t.skip(`an earlier step failed: ${failedStep}`);
        return;
      }
      const t0 = Date.now();
      try {
        await fn(t);
      } catch (e) {
        failedStep = name;
        for (const l of diagnostics()) t.diagnostic(l);
        throw e;
      } finally {
        t.diagnostic(`${Date.now() - t0} ms`);
      }
    });
  };
}
