import { afterAll, beforeAll } from 'vitest';

// What a describe block starts once for all its tests (a system, an app, a
// browser, a DNS server) is made in beforeAll and ended in afterAll. These
// helpers register both hooks and hand back a stand-in the block can name at
// once and its tests use as the thing itself, so no file repeats the
// `let x; beforeAll(...); afterAll(...)` dance. Hooks run in the order they
// are registered and end in reverse (vitest's default `sequence.hooks:
// 'stack'`), so a resource may use one registered before it.

/**
 * A stand-in for a value that exists only while the tests run: every property
 * read goes to `current()`. Used when there is none (before the beforeAll that
 * makes it, after the afterAll that ends it) it throws, naming `what`.
 */
export function standIn<T extends object>(what: string, current: () => T | undefined): T {
  const value = (): T => {
    const now = current();
    if (now === undefined) throw new Error(`${what} was used outside the tests of its describe block (before its beforeAll or after its afterAll)`);
    return now;
  };
  return new Proxy({} as T, {
    get(_target, key) {
      const target = value();
      const property: unknown = Reflect.get(target, key, target);
      // A class's methods (inherited) are bound to the instance: they may need its private state. A
      // function the object holds itself (a closure, or an Express app with its own properties) is
      // handed back as it is.
      const inherited = typeof property === 'function' && !Object.prototype.hasOwnProperty.call(target, key);
      return inherited ? (property as (...args: unknown[]) => unknown).bind(target) : property;
    },
    set: (_target, key, newValue) => Reflect.set(value(), key, newValue),
    has: (_target, key) => Reflect.has(value(), key),
  });
}

/** A stand-in for a value made once, at its first use in a test (from resources the hooks started). */
export function lazily<T extends object>(what: string, make: () => T): T {
  let made: T | undefined;
  return standIn(what, () => (made ??= make()));
}

/**
 * Starts a resource in beforeAll and stops it in afterAll of the describe block
 * (or file) it is called in; returns its stand-in for the tests.
 */
export function useSuiteResource<T extends object>(what: string, start: () => Promise<T> | T, stop: (resource: T) => unknown): T {
  let resource: T | undefined;
  beforeAll(async () => {
    resource = await start();
  });
  afterAll(async () => {
    const started = resource;
    resource = undefined;
    if (started) await stop(started);
  });
  return standIn(what, () => resource);
}
