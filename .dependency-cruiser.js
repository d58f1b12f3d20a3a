// @ts-check
// The import rules of partnerflow (docs/architecture.md explains each part and rule).
// `npm run deps:check` runs them over src, test, bench and scripts; `npm run lint` and
// .ci/run run that. Fix the import, not the rule: a rule changes only together with
// docs/architecture.md, and a new feature-to-feature edge only as a line in
// `featureImports` below (`npm run architecture` then rewrites the doc's table and diagram).

/** The parts of src/ (top-level folders). */
const PLUMBING = ['infra', 'http', 'validation', 'config'];
const FEATURES = [
  'activities',
  'relationships',
  'apiKeys',
  'partners',
  'enforcers',
  'tenants',
  'mail',
  'webhooks',
  'audit',
  'access',
  'accessApi',
  'partnerApi',
  'customerPages',
  'operator',
  'apiDocs',
];
/** Features that answer HTTP requests for one audience each (apiDocs documents them all). */
const HTTP_AUDIENCES = ['partnerApi', 'accessApi', 'customerPages', 'operator', 'apiDocs'];
/** Features that run in the worker: they never serve a request, so never import an audience. */
const WORKER_FEATURES = ['activities', 'mail', 'webhooks'];

/**
 * Which feature may import which other feature: the edges that exist, each for a reason.
 * Anything not listed is forbidden. Keep it a DAG (the no-circular rule checks the files).
 * @type {Record<string, { imports: string[], why: string }>}
 */
const featureImports = {
  activities: {
    imports: ['mail', 'webhooks', 'relationships', 'audit'],
    why: 'activities write the read model and hand emails (mail outbox) and webhook events (webhook outbox) to their queues; the stored offer is read back from relationships; audit events go through the audit log’s one writer',
  },
  relationships: {
    imports: ['tenants', 'mail', 'partners'],
    why: 'an offer names a customer tenant (the tenant identifier schemas); the invitation email data, built here, is a mail job’s payload; a paused partner makes no offers',
  },
  apiKeys: {
    imports: ['audit'],
    why: 'API keys (issue, authenticate, rotate with a grace period, revoke, audit) are one implementation for every holder; each holder passes in its own key table; key changes are audited through the audit log’s one writer',
  },
  partners: {
    imports: ['apiKeys', 'mail', 'webhooks', 'audit'],
    why: 'a partner’s API keys are apiKeys kept in partner_api_keys; pausing or resuming a partner tells it by email (mail outbox) and webhook (webhook outbox); a pause or resume is audited through the audit log’s one writer',
  },
  enforcers: {
    imports: ['apiKeys'],
    why: 'an enforcer’s API keys are apiKeys kept in enforcer_api_keys, rotated and revoked exactly as a partner’s',
  },
  tenants: { imports: ['audit'], why: 'the tenant directory and domain proofs stand alone; their changes are audited through the audit log’s one writer' },
  mail: {
    imports: ['tenants'],
    why: 'email template data checks tenant identifiers',
  },
  audit: { imports: [], why: 'the audit log’s hash chains stand alone: the one writer, the export and the verifier' },
  webhooks: { imports: [], why: 'webhook events are built from contract types only' },
  access: {
    imports: ['enforcers', 'tenants'],
    why: 'the access check tells an enforcer key from a partner key by its tag, and validates tenants with the tenant identifier schema',
  },
  accessApi: { imports: ['access'], why: 'the access check routes are a thin HTTP layer over the access check and its schemas' },
  partnerApi: {
    imports: ['relationships'],
    why: 'the partner routes are a thin HTTP layer over the relationship service and its schemas',
  },
  customerPages: {
    imports: ['relationships', 'tenants', 'mail', 'audit'],
    why: 'the customer acts on relationships (a forwarded invitation reuses their invitation email data), signs in against the tenant directory and gets emails through the mail outbox; a forwarded invitation is audited, and an admin downloads its tenant’s audit chain',
  },
  operator: {
    imports: ['partners', 'enforcers', 'apiKeys', 'tenants', 'webhooks', 'audit'],
    why: 'operators manage partners, enforcers, their keys (one set of key routes and schemas for both, over apiKeys) and tenants, and webhook targets are checked against the webhook target policy; the operator exports any audit chain and the CLI verifies one',
  },
  apiDocs: {
    imports: ['relationships', 'access', 'customerPages', 'operator', 'webhooks'],
    why: 'the OpenAPI document is generated from the request schemas of each audience and the webhooks partners receive; its page uses the customer pages layout',
  },
};

/** Every top-level folder of src/, by part (the diagram in docs/architecture.md groups them so). */
const PARTS = {
  'composition root': ['system'],
  features: FEATURES,
  plumbing: PLUMBING,
  workflows: ['workflows'],
  contract: ['contract'],
  generated: ['generated'],
};
const ALL_FOLDERS = Object.values(PARTS).flat();

/** @param {string[]} names */
const any = (names) => `^src/(${names.join('|')})/`;

/**
 * Pairs a named invariant below forbids outright; the per-feature rules leave them to
 * that rule (one report per bad import), and the map above may never allow one.
 * @type {Record<string, string[]>}
 */
const invariantTargets = {};
for (const feature of HTTP_AUDIENCES.filter((f) => f !== 'apiDocs')) {
  invariantTargets[feature] = HTTP_AUDIENCES.filter((f) => f !== feature && f !== 'apiDocs');
}
for (const feature of WORKER_FEATURES) invariantTargets[feature] = [...HTTP_AUDIENCES];

for (const [feature, { imports }] of Object.entries(featureImports)) {
  if (!FEATURES.includes(feature)) throw new Error(`featureImports: ${feature} is not a feature`);
  for (const target of imports) {
    if (!FEATURES.includes(target)) throw new Error(`featureImports.${feature}: ${target} is not a feature`);
    if ((invariantTargets[feature] ?? []).includes(target)) {
      throw new Error(`featureImports.${feature}: ${feature} -> ${target} breaks an invariant rule`);
    }
  }
}
for (const feature of FEATURES) {
  if (!featureImports[feature]) throw new Error(`featureImports: ${feature} is missing`);
}
/** @param {string} feature @param {string[]} path */
function assertAcyclic(feature, path) {
  if (path.includes(feature)) throw new Error(`featureImports: a cycle ${[...path, feature].join(' -> ')}`);
  for (const target of featureImports[feature].imports) assertAcyclic(target, [...path, feature]);
}
for (const feature of FEATURES) assertAcyclic(feature, []);

/** @type {import('dependency-cruiser').IForbiddenRuleType[]} */
const featureRules = FEATURES.map((feature) => ({
  name: `feature-${feature}-imports-only-listed-features`,
  comment: `${feature} may import only these features: ${featureImports[feature].imports.join(', ') || 'none'} (featureImports in .dependency-cruiser.js, docs/architecture.md).`,
  severity: 'error',
  from: { path: `^src/${feature}/` },
  to: {
    path: any(FEATURES),
    pathNot: any([feature, ...featureImports[feature].imports, ...(invariantTargets[feature] ?? [])]),
  },
}));

/** @type {import('dependency-cruiser').IConfiguration} */
const config = {
  forbidden: [
    {
      name: 'clients-built-only-in-system',
      comment:
        'The composition root (src/system/system.ts) builds the database client and the Redis connections; everything else is handed them (an `import type` is fine).',
      severity: 'error',
      from: { pathNot: '^src/system/' },
      to: { path: '^src/infra/(database|redis)\\.ts$', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'no-circular',
      comment: 'No import cycles, type-only imports included. (The generated Prisma client has its own; it is not ours to fix.)',
      severity: 'error',
      from: { pathNot: '^src/generated/' },
      to: { circular: true },
    },

    // contract: pure, and loaded into the workflow sandbox.
    {
      name: 'contract-imports-only-contract',
      comment: 'src/contract is pure types, messages and policy: it imports nothing of ours but contract.',
      severity: 'error',
      from: { path: '^src/contract/' },
      to: { dependencyTypes: ['local'], pathNot: '^src/contract/' },
    },
    {
      name: 'contract-sandbox-safe',
      comment: 'Workflows import src/contract, so it runs in the Temporal sandbox: no Node built-ins, no packages but @temporalio/workflow and @temporalio/common.',
      severity: 'error',
      from: { path: '^src/contract/' },
      to: { dependencyTypesNot: ['local'], pathNot: '(^|/)node_modules/@temporalio/(workflow|common)/' },
    },

    // workflows: Temporal's deterministic sandbox.
    {
      name: 'workflow-imports-only-contract',
      comment: 'Workflow code imports src/contract (and `import type` of activities) only: everything else of ours does I/O or is not bundled.',
      severity: 'error',
      from: { path: '^src/workflows/' },
      to: { dependencyTypes: ['local'], pathNot: '^src/(workflows|contract|activities)/' },
    },
    {
      name: 'workflow-activities-type-only',
      comment: 'Workflows call activities through proxyActivities: `import type` of src/activities only, never a value import.',
      severity: 'error',
      from: { path: '^src/workflows/' },
      to: { path: '^src/activities/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'workflow-sandbox-packages-only',
      comment: 'Workflow code runs in the Temporal sandbox: no Node built-ins, no packages but @temporalio/workflow and @temporalio/common.',
      severity: 'error',
      from: { path: '^src/workflows/', pathNot: '^src/workflows/tracingInterceptors\\.ts$' },
      to: { dependencyTypesNot: ['local'], pathNot: '(^|/)node_modules/@temporalio/(workflow|common)/' },
    },
    {
      name: 'workflow-tracing-sandbox-packages-only',
      comment:
        'The traced bundle’s workflow interceptors (src/workflows/tracingInterceptors.ts) may also use Temporal’s OpenTelemetry workflow interceptors and the OpenTelemetry API, both made for the sandbox; still no Node built-ins.',
      severity: 'error',
      from: { path: '^src/workflows/tracingInterceptors\\.ts$' },
      to: {
        dependencyTypesNot: ['local'],
        pathNot: '(^|/)node_modules/(@temporalio/(workflow|common)|@temporalio/interceptors-opentelemetry/lib/workflow|@opentelemetry/api)/',
      },
    },
    {
      name: 'only-system-imports-workflows',
      comment: 'Workflow code is loaded by the worker (src/system bundles it by path); clients talk to workflows through the message definitions in src/contract.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/(workflows|system)/' },
      to: { path: '^src/workflows/' },
    },

    // plumbing: infra, http, validation, config.
    {
      name: 'plumbing-not-to-features',
      comment: 'Plumbing (infra, http, validation, config) never imports a feature, not even a type: the feature owns the type and passes it in (generics, callbacks).',
      severity: 'error',
      from: { path: any(PLUMBING) },
      to: { path: any(FEATURES) },
    },
    {
      name: 'plumbing-direction',
      comment: 'Plumbing layers: contract <- validation <- config <- infra <- http. A lower layer never imports a higher one.',
      severity: 'error',
      from: { path: '^src/(validation|config|infra)/' },
      to: { path: '^src/http/' },
    },
    {
      name: 'plumbing-direction-infra',
      comment: 'Plumbing layers: contract <- validation <- config <- infra <- http. validation and config never import infra.',
      severity: 'error',
      from: { path: '^src/(validation|config)/' },
      to: { path: '^src/infra/' },
    },
    {
      name: 'plumbing-direction-config',
      comment: 'Plumbing layers: contract <- validation <- config <- infra <- http. validation never imports config.',
      severity: 'error',
      from: { path: '^src/validation/' },
      to: { path: '^src/config/' },
    },

    // features.
    ...featureRules,
    {
      name: 'http-audiences-independent',
      comment: 'The partner API, the customer pages and the operator surface never import one another (apiDocs may read their schemas to document them).',
      severity: 'error',
      from: { path: any(HTTP_AUDIENCES.filter((f) => f !== 'apiDocs')) },
      // $1: the audience the importing file is in (group matching).
      to: { path: any(HTTP_AUDIENCES.filter((f) => f !== 'apiDocs')), pathNot: '^src/$1/' },
    },
    {
      name: 'worker-features-not-to-http-audiences',
      comment: 'activities, mail and webhooks run in the worker and never import an HTTP audience (partnerApi, customerPages, operator, apiDocs).',
      severity: 'error',
      from: { path: any(WORKER_FEATURES) },
      to: { path: any(HTTP_AUDIENCES) },
    },

    // the composition root, generated code, entry points.
    {
      name: 'nothing-imports-system',
      comment: 'src/system is the composition root: it may import everything, and only test, bench and scripts entry points import it.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/system/' },
      to: { path: '^src/system/' },
    },
    {
      name: 'generated-only-from-database-and-features',
      comment:
        'The Prisma client (src/generated) is reached through src/infra/database.ts (and sqlTimestamp.ts, a raw-SQL value); besides them only feature files that use Prisma types import it.',
      severity: 'error',
      from: { path: '^src/', pathNot: [`^src/generated/`, '^src/infra/(database|sqlTimestamp)\\.ts$', any(FEATURES)] },
      to: { path: '^src/generated/' },
    },
    {
      name: 'src-not-to-test-bench-scripts',
      comment: 'Application code never imports tests, benchmarks or scripts.',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(test|bench|scripts)/' },
    },
    {
      name: 'src-folder-belongs-to-a-part',
      comment: 'Every top-level folder of src/ is one of the parts above (PARTS in .dependency-cruiser.js), so some rule covers it: add a new folder there first.',
      severity: 'error',
      from: { path: '^src/', pathNot: any(ALL_FOLDERS) },
      to: {},
    },
    {
      name: 'not-to-unresolvable',
      comment: 'An import dependency-cruiser cannot resolve would slip past every rule above.',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    // `import type` counts (a type-only import still couples two parts); rules that allow it say so.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    doNotFollow: { path: ['node_modules'] },
    exclude: { path: ['^dist/'] },
    moduleSystems: ['es6', 'cjs'],
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
  },
};

// Read by scripts/architecture.ts to write the feature table and the diagram's groups in
// docs/architecture.md. Not enumerable, so dependency-cruiser's config validation (which
// allows no keys of its own) does not see it.
Object.defineProperty(config, 'architecture', { value: { parts: PARTS, featureImports }, enumerable: false });

export default config;
