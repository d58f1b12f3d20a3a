import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Request, RequestHandler } from 'express';

// A server span per HTTP request, by hand rather than through the http/express
// auto-instrumentations: those patch modules as they load, which an ES-module
// process gets only through a loader hook (node --import), and a production
// start with plain `node` must not depend on one. Installed only while tracing
// is on (buildApp).

const tracer = trace.getTracer('partnerflow-http');

/** The route template the request matched (`/invitations/:token`), never its path: paths carry link tokens. */
function routeOf(req: Request): string | undefined {
  const path: unknown = (req as { route?: { path?: unknown } }).route?.path;
  return typeof path === 'string' ? `${req.baseUrl}${path}` : undefined;
}

/**
 * Starts the request's span (a child of an incoming `traceparent`, as from a proxy that
 * traces) and runs the rest of the app in its context, request and response events
 * included (a body arrives on them), so the Temporal client's spans become its children.
 * Named `METHOD /route` when it ends; attributes: method, route, status code.
 */
export function requestTracing(): RequestHandler {
  return (req, res, next) => {
    const parent = propagation.extract(ROOT_CONTEXT, req.headers);
    const span = tracer.startSpan(req.method, { kind: SpanKind.SERVER, attributes: { 'http.request.method': req.method } }, parent);
    const active = trace.setSpan(parent, span);
    context.bind(active, req);
    context.bind(active, res);
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      const route = routeOf(req);
      if (route) {
        span.updateName(`${req.method} ${route}`);
        span.setAttribute('http.route', route);
      }
      span.setAttribute('http.response.status_code', res.statusCode);
      if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    };
    res.once('finish', end);
    res.once('close', end);
    context.with(active, next);
  };
}
