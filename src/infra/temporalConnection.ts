import { readFile } from 'node:fs/promises';
import type { NativeConnectionOptions } from '@temporalio/worker';
import type { Config } from '../config/config.js';

// The same options serve the client (API) and the worker's native connection,
// whether Temporal is the local dev server, a self-hosted cluster or Temporal Cloud.
export type TemporalConnectionOptions = Pick<NativeConnectionOptions, 'address' | 'tls' | 'apiKey'>;

export async function temporalConnectionOptions(config: Config): Promise<TemporalConnectionOptions> {
  const useTls = config.TEMPORAL_TLS || Boolean(config.TEMPORAL_TLS_CERT_PATH) || Boolean(config.TEMPORAL_API_KEY);
  const options: TemporalConnectionOptions = { address: config.TEMPORAL_ADDRESS };
  if (useTls) {
    options.tls = {
      ...(config.TEMPORAL_TLS_SERVER_NAME ? { serverNameOverride: config.TEMPORAL_TLS_SERVER_NAME } : {}),
      ...(config.TEMPORAL_TLS_CA_PATH ? { serverRootCACertificate: await readFile(config.TEMPORAL_TLS_CA_PATH) } : {}),
      ...(config.TEMPORAL_TLS_CERT_PATH && config.TEMPORAL_TLS_KEY_PATH
        ? {
            clientCertPair: {
              crt: await readFile(config.TEMPORAL_TLS_CERT_PATH),
              key: await readFile(config.TEMPORAL_TLS_KEY_PATH),
            },
          }
        : {}),
    };
  }
  if (config.TEMPORAL_API_KEY) options.apiKey = config.TEMPORAL_API_KEY;
  return options;
}
