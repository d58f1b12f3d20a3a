import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/config.js';
import { tracingRequested } from '../../src/infra/tracing.js';
import { relationshipAttributes } from '../../src/infra/spanAttributes.js';

// When tracing is on (the standard OTEL_* variables decide), what is refused,
// and what a span may say about a relationship.

describe('tracingRequested: off unless OTEL_* asks', () => {
  it('is off with no OTEL_* variable at all', () => {
    expect(tracingRequested({})).toBe(false);
  });

  it('is on with an OTLP endpoint (all signals or traces only) or OTEL_TRACES_EXPORTER=otlp', () => {
    expect(tracingRequested({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toBe(true);
    expect(tracingRequested({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces' })).toBe(true);
    expect(tracingRequested({ OTEL_TRACES_EXPORTER: 'otlp' })).toBe(true);
    expect(tracingRequested({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' })).toBe(true);
  });

  it('stays off when OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none says so, endpoint or not', () => {
    expect(tracingRequested({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_SDK_DISABLED: 'TRUE' })).toBe(false);
    expect(tracingRequested({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_TRACES_EXPORTER: 'none' })).toBe(false);
  });

  it('refuses, naming the variable, what it cannot do: another exporter, another OTLP protocol', () => {
    const refusal = (env: NodeJS.ProcessEnv) => {
      try {
        tracingRequested(env);
      } catch (err) {
        return err instanceof ConfigError ? err.message : `not a ConfigError: ${String(err)}`;
      }
      return 'accepted';
    };
    expect(refusal({ OTEL_TRACES_EXPORTER: 'zipkin' })).toMatch(/^OTEL_TRACES_EXPORTER: /);
    expect(refusal({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4317', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })).toMatch(/^OTEL_EXPORTER_OTLP_PROTOCOL: .*http\/json/);
    expect(refusal({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf' })).toMatch(/^OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: /);
    // A protocol setting for other signals does not matter while traces are off.
    expect(refusal({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })).toBe('accepted');
  });
});

describe('relationshipAttributes: identifiers only', () => {
  it('takes the relationship, workflow, partner and tenant ids and the status a transition moves to, nothing else', () => {
    const activityInput = {
      workflowId: 'relationship-r1',
      relationshipId: 'r1',
      partnerId: 'p1',
      tenantDomain: 'contoso.example',
      transition: { seq: 4, to: 'active', actor: { type: 'customer', id: 'admin@contoso.example' }, reason: 'because' },
      snapshot: { adminEmail: 'admin@contoso.example', customerName: 'Contoso' },
      to: 'admin@contoso.example',
      name: 'Contoso',
    };
    expect(relationshipAttributes(activityInput)).toEqual({
      'partnerflow.workflow.id': 'relationship-r1',
      'partnerflow.relationship.id': 'r1',
      'partnerflow.partner.id': 'p1',
      'partnerflow.tenant.domain': 'contoso.example',
      'partnerflow.transition.to': 'active',
    });
  });

  it('of transitions written together, names the status the last one moves to', () => {
    const transitions = [
      { seq: 2, to: 'accepted', actor: { type: 'customer', id: 'admin@contoso.example' } },
      { seq: 3, to: 'active', actor: { type: 'system' } },
    ];
    expect(relationshipAttributes({ relationshipId: 'r1', transitions })).toEqual({ 'partnerflow.relationship.id': 'r1', 'partnerflow.transition.to': 'active' });
  });

  it('says nothing about what is not an object', () => {
    for (const value of [undefined, null, 'r1', 42, ['r1']]) expect(relationshipAttributes(value)).toEqual({});
  });
});
