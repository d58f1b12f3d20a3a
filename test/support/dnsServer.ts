import { normalizeDnsName, startTxtServer } from '../../scripts/devDns/txtServer.js';
import { useSuiteResource } from './suiteResource.js';

export interface TestDnsServer {
  /** For DNS_SERVERS / createTxtLookup({ servers }), e.g. ['127.0.0.1:PORT']. */
  servers: string[];
  /** Adds a TXT value to the name (a name may hold several). */
  publish(name: string, value: string): void;
  /** Removes every TXT value of the name. */
  unpublish(name: string): void;
  close(): Promise<void>;
}

/** A real DNS server on a free loopback port, serving what the test publishes. */
export async function startTestDnsServer(): Promise<TestDnsServer> {
  const records = new Map<string, string[]>();
  const server = await startTxtServer({ records: (name) => records.get(name) ?? [] });
  return {
    servers: [`${server.host}:${server.port}`],
    publish: (name, value) => {
      const key = normalizeDnsName(name);
      records.set(key, [...(records.get(key) ?? []), value]);
    },
    unpublish: (name) => {
      records.delete(normalizeDnsName(name));
    },
    close: () => server.close(),
  };
}

/** A DNS server for the describe block this is called in: started in its beforeAll, closed in its afterAll. */
export const useTestDnsServer = (): TestDnsServer => useSuiteResource('the test DNS server', startTestDnsServer, (dns) => dns.close());
