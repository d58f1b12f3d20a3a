import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { buildTestApp, type TestApp, type TestAppOptions } from '../api/apiHarness.js';
import { lazily, useSuiteResource } from './suiteResource.js';

/**
 * The API without a worker (buildTestApp) for the describe block this is called
 * in: built in its beforeAll, closed in its afterAll, with a supertest client.
 * Options that depend on a resource started before it (a private Redis's URL)
 * are given as a function, called when the app is built.
 */
export function useTestApp(options: TestAppOptions | (() => TestAppOptions) = {}): { app: TestApp; api: ReturnType<typeof request> } {
  const app = useSuiteResource('the test app', () => buildTestApp(typeof options === 'function' ? options() : options), (built) => built.close());
  const api = lazily('the test app’s supertest client', () => request(app.app));
  return { app, api };
}

/**
 * Serves `handler()` on a loopback port for the describe block (for clients that
 * need a URL, like the operator CLI); closed, with its connections, in afterAll.
 */
export function useHttpServer(handler: () => RequestListener): { url: string } {
  return useSuiteResource(
    'the test HTTP server',
    async () => {
      const server = createServer(handler());
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
    },
    async ({ server }) => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  );
}
