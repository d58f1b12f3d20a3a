import { useSuiteResource } from './suiteResource.js';
import { startTestSystem, type TestSystem, type TestSystemOptions } from './testSystem.js';

/**
 * The whole system (startTestSystem) for the describe block this is called in:
 * started in its beforeAll, stopped in its afterAll. Options that depend on a
 * resource started before it (a DNS server's address) are given as a function,
 * called when the system starts.
 */
export function useTestSystem(name: string, options: TestSystemOptions | (() => TestSystemOptions) = {}): TestSystem {
  return useSuiteResource(
    `the test system "${name}"`,
    () => startTestSystem(name, typeof options === 'function' ? options() : options),
    (system) => system.stop(),
  );
}
