import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { z } from 'zod';

// A tracing backend inside the test: an OTLP/HTTP receiver on 127.0.0.1 that
// takes what partnerflow's exporter sends (POST /v1/traces, JSON bodies, as
// OTEL_EXPORTER_OTLP_ENDPOINT points it) and keeps every span, flattened.

/** An OTLP AnyValue, as the JSON encoding writes it. */
type AnyValue = { stringValue?: string; boolValue?: boolean; intValue?: string | number; doubleValue?: number; arrayValue?: { values?: AnyValue[] }; kvlistValue?: { values?: KeyValue[] } };
type KeyValue = { key: string; value?: AnyValue };

const anyValue: z.ZodType<AnyValue> = z.lazy(() =>
  z.object({
    stringValue: z.string().optional(),
    boolValue: z.boolean().optional(),
    intValue: z.union([z.string(), z.number()]).optional(),
    doubleValue: z.number().optional(),
    arrayValue: z.object({ values: z.array(anyValue).optional() }).optional(),
    kvlistValue: z.object({ values: z.array(keyValue).optional() }).optional(),
  }),
);
const keyValue: z.ZodType<KeyValue> = z.lazy(() => z.object({ key: z.string(), value: anyValue.optional() }));
const attributes = z.array(keyValue).default([]);

const exportRequest = z.object({
  resourceSpans: z.array(
    z.object({
      resource: z.object({ attributes }).default({ attributes: [] }),
      scopeSpans: z.array(
        z.object({
          scope: z.object({ name: z.string() }).optional(),
          spans: z.array(
            z.object({
              traceId: z.string(),
              spanId: z.string(),
              parentSpanId: z.string().optional(),
              name: z.string(),
              kind: z.number().optional(),
              attributes,
              events: z.array(z.object({ name: z.string(), attributes })).default([]),
            }),
          ),
        }),
      ),
    }),
  ),
});

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  /** Empty for a trace's root. */
  parentSpanId: string;
  name: string;
  /** The `service.name` of the process that sent it. */
  service: string;
  attributes: Record<string, unknown>;
  events: { name: string; attributes: Record<string, unknown> }[];
}

function plain(value: AnyValue | undefined): unknown {
  if (!value) return undefined;
  if (value.arrayValue) return (value.arrayValue.values ?? []).map(plain);
  if (value.kvlistValue) return flatten(value.kvlistValue.values ?? []);
  return value.stringValue ?? value.boolValue ?? value.intValue ?? value.doubleValue;
}

const flatten = (list: KeyValue[]): Record<string, unknown> => Object.fromEntries(list.map(({ key, value }) => [key, plain(value)]));

export async function startOtlpReceiver() {
  const spans: ReceivedSpan[] = [];
  const rejected: string[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const body = req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
      const parsed = req.url === '/v1/traces' && req.headers['content-type']?.startsWith('application/json') ? exportRequest.safeParse(JSON.parse(body.toString('utf8'))) : undefined;
      if (!parsed?.success) {
        rejected.push(`${req.method} ${req.url} ${req.headers['content-type']}: ${parsed?.error.message ?? 'not OTLP/HTTP JSON traces'}`);
        res.writeHead(400, { 'content-type': 'application/json' }).end('{}');
        return;
      }
      for (const { resource, scopeSpans } of parsed.data.resourceSpans) {
        const service = String(flatten(resource.attributes)['service.name']);
        for (const span of scopeSpans.flatMap((scope) => scope.spans)) {
          spans.push({
            traceId: span.traceId,
            spanId: span.spanId,
            parentSpanId: span.parentSpanId ?? '',
            name: span.name,
            service,
            attributes: flatten(span.attributes),
            events: span.events.map((event) => ({ name: event.name, attributes: flatten(event.attributes) })),
          });
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    /** What OTEL_EXPORTER_OTLP_ENDPOINT should say (the exporter appends /v1/traces). */
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    spans,
    /** Requests that were not OTLP/HTTP JSON traces: a test expects none. */
    rejected,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export type OtlpReceiver = Awaited<ReturnType<typeof startOtlpReceiver>>;
