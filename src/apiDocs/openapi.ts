import { z } from 'zod';
import { problemTypes, problemTypeUri, type ErrorCode } from '../http/errors.js';
import {
  accessAnswerSchema,
  accessBatchAnswerSchema,
  livenessSchema,
  partnerCreatedSchema,
  partnerListSchema,
  problemSchema,
  readinessSchema,
  relationshipListSchema,
  relationshipSchema,
  roleCatalogSchema,
  tenantSchema,
} from './responseSchemas.js';
import { codecPayloadsSchema } from '../operator/codecRoutes.js';
import { accessBatchSchema, accessQuerySchema, MAX_BATCH_CHECKS } from '../access/accessQuestions.js';
import { createRelationshipSchema, listRelationshipsQuerySchema, reasonBodySchema } from '../relationships/relationshipSchemas.js';
import { createPartnerSchema, putTenantSchema } from '../operator/operatorSchemas.js';
import { auditExportQuerySchema } from '../operator/auditSchemas.js';
import { createEnforcerSchema, enforcerCreatedSchema, enforcerKeyRotatedSchema, enforcerListSchema } from '../operator/enforcerSchemas.js';
import { apiKeyListSchema, apiKeySchema } from '../operator/keySchemas.js';
import { adminEmailFormSchema, csrfFormSchema, invitationAnswerFormSchema, newTenantFormSchema, partnerListQuerySchema, signInFormSchema, verifyDomainFormSchema } from '../customerPages/formSchemas.js';
import { keyRotatedSchema, rotateKeySchema } from '../operator/partnerKeySchemas.js';
import { partnerPauseRequestSchema, partnerPauseStateSchema } from '../operator/partnerPauseSchemas.js';
import { deadLetterListQuerySchema, deadLetterListSchema, deadLetterSchema } from '../operator/deadLetterSchemas.js';
import { partnerEventTypes, partnerWebhookEventSchema } from '../webhooks/partnerWebhookEvent.js';
import { trialEventTypes, trialWebhookEventSchema, type TrialEventType } from '../webhooks/trialWebhookEvent.js';
import { subscriptionEventTypes, subscriptionWebhookEventSchema, type SubscriptionEventType } from '../webhooks/subscriptionWebhookEvent.js';
import { provisioningCompletionSchema } from '../relationships/purchaseSchemas.js';

// The OpenAPI 3.1 document, generated from the zod schemas the routes validate
// with (requests, as their input side) and the schemas the tests hold the
// answers to (responses). OpenAPI 3.1 speaks JSON Schema 2020-12, which is
// what z.toJSONSchema produces, so no translation layer is needed.

type JsonSchema = Record<string, unknown>;
type Security = 'partner' | 'enforcer' | 'operator' | 'none';

interface Operation {
  method: 'get' | 'post' | 'put' | 'delete';
  path: string;
  tag: 'Partner API' | 'Access check' | 'Operator' | 'Customer pages' | 'Service';
  summary: string;
  description?: string;
  security: Security[];
  query?: z.ZodObject;
  pathParams?: Record<string, string>;
  requestBody?: { schema: string; mediaType: 'application/json' | 'application/x-www-form-urlencoded'; required: boolean };
  headers?: ('IdempotencyKey' | 'IfMatch' | 'IfNoneMatch')[];
  success: { status: number; description: string; schema?: string; mediaType?: string; headers?: string[] };
  problems: ErrorCode[];
  /** HTML pages answer failures as pages, not problem+json. */
  pageErrors?: number[];
}

const requestSchemas = {
  CreatePartnerRequest: createPartnerSchema,
  CreateRelationshipRequest: createRelationshipSchema,
  StepRequest: reasonBodySchema,
  InvitationAnswerForm: invitationAnswerFormSchema,
  SignInForm: signInFormSchema,
  CsrfForm: csrfFormSchema,
  PutTenantRequest: putTenantSchema,
  NewTenantForm: newTenantFormSchema,
  VerifyDomainForm: verifyDomainFormSchema,
  AdminEmailForm: adminEmailFormSchema,
  RotateKeyRequest: rotateKeySchema,
  CreateEnforcerRequest: createEnforcerSchema,
  PartnerPauseRequest: partnerPauseRequestSchema,
  AccessBatchRequest: accessBatchSchema,
  CodecPayloadsRequest: codecPayloadsSchema,
  ProvisioningCompletionRequest: provisioningCompletionSchema,
} as const;

const responseSchemas = {
  Relationship: relationshipSchema,
  RelationshipList: relationshipListSchema,
  PartnerCreated: partnerCreatedSchema,
  PartnerList: partnerListSchema,
  RoleCatalog: roleCatalogSchema,
  AccessAnswer: accessAnswerSchema,
  AccessBatchAnswer: accessBatchAnswerSchema,
  Problem: problemSchema,
  Liveness: livenessSchema,
  Readiness: readinessSchema,
  Tenant: tenantSchema,
  ApiKey: apiKeySchema,
  ApiKeyList: apiKeyListSchema,
  KeyRotated: keyRotatedSchema,
  EnforcerCreated: enforcerCreatedSchema,
  EnforcerList: enforcerListSchema,
  EnforcerKeyRotated: enforcerKeyRotatedSchema,
  PartnerPauseState: partnerPauseStateSchema,
  DeadLetterList: deadLetterListSchema,
  DeadLetter: deadLetterSchema,
  PartnerWebhookEvent: partnerWebhookEventSchema,
  SubscriptionWebhookEvent: subscriptionWebhookEventSchema,
  TrialWebhookEvent: trialWebhookEventSchema,
  CodecPayloads: codecPayloadsSchema,
} as const;

const authProblems: ErrorCode[] = ['unauthorized', 'forbidden', 'rateLimited'];
const bodyProblems: ErrorCode[] = ['validation', 'payloadTooLarge', 'unsupportedMediaType'];
const idempotencyProblems: ErrorCode[] = ['idempotencyKeyInProgress', 'idempotencyKeyReused'];
const stepProblems: ErrorCode[] = [...bodyProblems, ...authProblems, ...idempotencyProblems, 'notFound', 'stepRefused', 'preconditionFailed', 'unavailable'];

const relationshipId = { id: 'The relationship id (a UUID)' };

/** The key routes, the same for partners' keys and enforcers' (src/operator/keyRoutes.ts). */
function keyOperations(holder: 'partner' | 'enforcer'): Operation[] {
  const base = `/api/v1/admin/${holder}s/{id}/keys`;
  const id = { id: `The ${holder} id (a UUID)` };
  const tag = holder === 'partner' ? 'pf_' : 'pfe_';
  return [
    {
      method: 'get',
      path: base,
      tag: 'Operator',
      summary: `A${holder === 'enforcer' ? 'n' : ''} ${holder}’s API keys (prefixes and dates, never the keys)`,
      security: ['operator'],
      pathParams: id,
      success: { status: 200, description: 'Newest first, with each key’s status', schema: 'ApiKeyList' },
      problems: ['validation', 'unauthorized', 'forbidden', 'notFound'],
    },
    {
      method: 'post',
      path: base,
      tag: 'Operator',
      summary: 'Rotate: a new key (shown only in this answer); the older keys keep working for graceSeconds',
      description: `Older live keys get an expiry at the end of the grace period (never later than one they already had). Audited as ${holder}.apiKeyRotated.`,
      security: ['operator'],
      pathParams: id,
      requestBody: { schema: 'RotateKeyRequest', mediaType: 'application/json', required: false },
      headers: ['IdempotencyKey'],
      success: { status: 201, description: 'The new key and when the older ones end', schema: holder === 'partner' ? 'KeyRotated' : 'EnforcerKeyRotated' },
      problems: [...bodyProblems, 'unauthorized', 'forbidden', 'notFound', ...idempotencyProblems, 'unavailable'],
    },
    {
      method: 'delete',
      path: `${base}/{key}`,
      tag: 'Operator',
      summary: 'Revoke one key at once (by its id or its prefix)',
      description: `The key is refused (401) from now on. Revoking a revoked key changes nothing. Audited as ${holder}.apiKeyRevoked.`,
      security: ['operator'],
      pathParams: { ...id, key: `The key’s id, or its prefix (${tag} and 7 characters)` },
      success: { status: 200, description: 'The key, now revoked', schema: 'ApiKey' },
      problems: ['validation', 'unauthorized', 'forbidden', 'notFound', 'conflict'],
    },
  ];
}

export const operations: Operation[] = [
  {
    method: 'get',
    path: '/api/v1/roles',
    tag: 'Partner API',
    summary: 'The role catalog',
    security: ['none'],
    success: { status: 200, description: 'Every role a partner may ask for', schema: 'RoleCatalog' },
    problems: [],
  },
  {
    method: 'post',
    path: '/api/v1/relationships',
    tag: 'Partner API',
    summary: 'Create an offer (the customer gets an invitation email)',
    security: ['partner'],
    requestBody: { schema: 'CreateRelationshipRequest', mediaType: 'application/json', required: true },
    headers: ['IdempotencyKey'],
    success: { status: 201, description: 'The offer, status invited', schema: 'Relationship', headers: ['Location', 'RateLimit-Limit', 'RateLimit-Remaining'] },
    problems: [...bodyProblems, ...authProblems, ...idempotencyProblems, 'conflict', 'partnerPaused', 'pendingInvitationLimit', 'partnerMailQuota', 'unavailable'],
  },
  {
    method: 'get',
    path: '/api/v1/relationships',
    tag: 'Partner API',
    summary: 'List relationships (a partner sees its own; the operator sees all)',
    security: ['partner', 'operator'],
    query: listRelationshipsQuerySchema,
    success: { status: 200, description: 'Newest first', schema: 'RelationshipList' },
    problems: ['validation', ...authProblems],
  },
  {
    method: 'get',
    path: '/api/v1/relationships/{id}',
    tag: 'Partner API',
    summary: 'One relationship, with an ETag',
    security: ['partner', 'operator'],
    pathParams: relationshipId,
    headers: ['IfNoneMatch'],
    success: { status: 200, description: 'The relationship', schema: 'Relationship', headers: ['ETag'] },
    problems: ['validation', ...authProblems, 'notFound'],
  },
  ...(['resend', 'withdraw', 'terminate'] as const).map(
    (step): Operation => ({
      method: 'post',
      path: `/api/v1/relationships/{id}/${step}`,
      tag: 'Partner API',
      summary: {
        resend: 'Send the invitation again with a fresh link (older links stop working)',
        withdraw: 'Withdraw an offer not yet answered',
        terminate: 'End a live relationship',
      }[step],
      security: ['partner'],
      pathParams: relationshipId,
      requestBody: { schema: 'StepRequest', mediaType: 'application/json', required: false },
      headers: ['IdempotencyKey', 'IfMatch'],
      success: { status: 200, description: 'The relationship after the step', schema: 'Relationship' },
      // A resend is capped (409 resendLimit) and spaced by a cooldown (429 with Retry-After).
      problems: step === 'resend' ? [...stepProblems, 'stepCoolingDown', 'partnerMailQuota'] : stepProblems,
    }),
  ),
  ...(['subscription', 'trial'] as const).map(
    (what): Operation => ({
      method: 'post',
      path: `/api/v1/relationships/{id}/${what}`,
      tag: 'Partner API',
      summary: `Complete a ${what} your system was asked for (\`${what}.requested\`): active with its reference, or failed with the reason`,
      description: `Once, before the request’s \`deadlineAt\` (docs/commerce.md). A duplicate, a late completion, one for a request never sent${
        what === 'subscription' ? ' (the customer continued without the purchase)' : ' (the trial is not provisioned by your system, or was not taken)'
      } or after the relationship ended (the request withdrawn) is refused with 409 \`${what === 'subscription' ? 'noSubscriptionRequest' : 'noTrialRequest'}\` and changes nothing; another partner’s relationship is 404.`,
      security: ['partner'],
      pathParams: relationshipId,
      requestBody: { schema: 'ProvisioningCompletionRequest', mediaType: 'application/json', required: true },
      headers: ['IdempotencyKey'],
      success: { status: 200, description: `The relationship, its ${what} active or failed`, schema: 'Relationship' },
      problems: stepProblems.filter((code) => code !== 'preconditionFailed'),
    }),
  ),
  {
    method: 'get',
    path: '/api/v1/access',
    tag: 'Access check',
    summary: 'May this partner act in this role in this tenant now? (a partner about itself; an enforcer about any partner)',
    description:
      'With a partner key: about the calling partner (`partner` left out, or its own id; another partner’s id is 403). With an enforcer key (the system that executes admin actions in the tenant): `partner` is required (400 without), and a tenant outside the enforcer’s scope is 403. The operator token is 403. ' +
      'Answered from the primary database at the moment of the request, never from a cache: once a removal, a terminate, a pause or an expiry has returned, no later check says yes (docs/access.md). ' +
      'Checks have a budget of their own per partner and per enforcer (ACCESS_CHECKS_PER_PARTNER, ACCESS_CHECKS_PER_ENFORCER per ACCESS_CHECK_WINDOW_SECONDS), apart from the partner’s request budget; a spent budget is 429 with Retry-After, never a "no".',
    security: ['partner', 'enforcer'],
    query: accessQuerySchema,
    success: { status: 200, description: 'The answer', schema: 'AccessAnswer' },
    problems: ['validation', ...authProblems],
  },
  {
    method: 'post',
    path: '/api/v1/access/batch',
    tag: 'Access check',
    summary: `Up to ${MAX_BATCH_CHECKS} access questions in one round trip, answered in the order asked`,
    description:
      'Each question as in GET /api/v1/access (`partner` required with an enforcer key; with a partner key its own id or left out). One statement answers them all, at one moment. A question out of the caller’s reach (another partner’s, a tenant outside the enforcer’s scope) makes the whole request 403. Each question spends one point of the check budget.',
    security: ['partner', 'enforcer'],
    requestBody: { schema: 'AccessBatchRequest', mediaType: 'application/json', required: true },
    success: { status: 200, description: 'One answer per question, in order', schema: 'AccessBatchAnswer' },
    problems: [...bodyProblems, ...authProblems],
  },
  {
    method: 'post',
    path: '/api/v1/admin/partners',
    tag: 'Operator',
    summary: 'Create a partner; its API key is shown only in this answer',
    security: ['operator'],
    requestBody: { schema: 'CreatePartnerRequest', mediaType: 'application/json', required: true },
    headers: ['IdempotencyKey'],
    success: { status: 201, description: 'The partner and its API key', schema: 'PartnerCreated' },
    problems: [...bodyProblems, 'unauthorized', 'forbidden', ...idempotencyProblems, 'unavailable'],
  },
  {
    method: 'get',
    path: '/api/v1/admin/partners',
    tag: 'Operator',
    summary: 'List partners (without keys)',
    security: ['operator'],
    success: { status: 200, description: 'Every partner', schema: 'PartnerList' },
    problems: ['unauthorized', 'forbidden'],
  },
  ...keyOperations('partner'),
  ...(['pause', 'resume'] as const).map(
    (change): Operation => ({
      method: 'post',
      path: `/api/v1/admin/partners/{id}/${change}`,
      tag: 'Operator',
      summary: change === 'pause' ? 'Pause a partner: all of its access stops at once' : 'Resume a paused partner: restore what was',
      description:
        change === 'pause'
          ? 'While paused, the access check answers `allowed: false` for every relationship of the partner, new offers are refused (409 `/problems/partnerPaused`) and customers cannot accept its pending invitations (the page says why; declining still works). Grants are not revoked and workflows are not touched: timers keep running, so a relationship may expire meanwhile. Audited as `partner.paused` with the reason; the partner gets the `partner.paused` webhook and an email. Pausing a paused partner changes nothing and notifies nobody again (`changed: false`).'
          : 'Access checks answer yes again for relationships still active, offers are taken and pending invitations can be accepted. Audited as `partner.resumed` with the reason; the partner gets the `partner.resumed` webhook and an email. Resuming a partner that is not paused changes nothing (`changed: false`).',
      security: ['operator'],
      pathParams: { id: 'The partner id (a UUID)' },
      requestBody: { schema: 'PartnerPauseRequest', mediaType: 'application/json', required: true },
      success: { status: 200, description: 'The partner’s pause state after the call', schema: 'PartnerPauseState' },
      problems: [...bodyProblems, 'unauthorized', 'forbidden', 'notFound', 'unavailable'],
    }),
  ),
  {
    method: 'get',
    path: '/api/v1/admin/dead-letters',
    tag: 'Operator',
    summary: 'Emails and webhooks that failed for good (dead letters), newest first, with the counts by kind',
    description: 'What the `partnerflow_dead_letters` metric counts. Nothing is given up silently: a delivery whose retries ran out waits here until the operator sends it again (docs/reliability.md).',
    security: ['operator'],
    query: deadLetterListQuerySchema,
    success: { status: 200, description: 'The dead letters', schema: 'DeadLetterList' },
    problems: ['validation', 'unauthorized', 'forbidden'],
  },
  {
    method: 'post',
    path: '/api/v1/admin/dead-letters/{kind}/{id}/retry',
    tag: 'Operator',
    summary: 'Send a dead letter again (a fresh round of retries under the same delivery id)',
    security: ['operator'],
    pathParams: { kind: '`mail` or `webhook`', id: 'The dead letter’s id (a UUID)' },
    success: { status: 200, description: 'The dead letter as it was before it was queued again', schema: 'DeadLetter' },
    problems: ['validation', 'unauthorized', 'forbidden', 'notFound', 'unavailable'],
  },
  {
    method: 'post',
    path: '/api/v1/admin/enforcers',
    tag: 'Operator',
    summary: 'Create an enforcer (a system that asks the access question about any partner); its key is shown only in this answer',
    description:
      'An enforcer key (`pfe_…`) may call GET /api/v1/access, naming the partner, for the tenants listed (or any tenant when `tenants` is left out); every other route answers it 403. Audited as enforcer.created.',
    security: ['operator'],
    requestBody: { schema: 'CreateEnforcerRequest', mediaType: 'application/json', required: true },
    headers: ['IdempotencyKey'],
    success: { status: 201, description: 'The enforcer and its key', schema: 'EnforcerCreated' },
    problems: [...bodyProblems, 'unauthorized', 'forbidden', ...idempotencyProblems, 'unavailable'],
  },
  {
    method: 'get',
    path: '/api/v1/admin/enforcers',
    tag: 'Operator',
    summary: 'List enforcers, their tenants and their keys (prefixes and dates, never the keys)',
    security: ['operator'],
    success: { status: 200, description: 'Every enforcer, oldest first', schema: 'EnforcerList' },
    problems: ['unauthorized', 'forbidden'],
  },
  ...keyOperations('enforcer'),
  {
    method: 'put',
    path: '/api/v1/admin/tenants/{domain}',
    tag: 'Operator',
    summary: 'Register a tenant, or set its name and exactly its admins (verified by the operator’s word)',
    description: 'The domain is normalised (lower case, punycode, no trailing dot). 201 when created, 200 when updated. Admins not listed are removed.',
    security: ['operator'],
    pathParams: { domain: 'The tenant’s domain, e.g. contoso.com' },
    requestBody: { schema: 'PutTenantRequest', mediaType: 'application/json', required: true },
    success: { status: 201, description: 'The tenant as it now is (200 when it existed)', schema: 'Tenant', headers: ['Location'] },
    problems: [...bodyProblems, 'unauthorized', 'forbidden'],
  },
  {
    method: 'get',
    path: '/api/v1/admin/tenants/{domain}',
    tag: 'Operator',
    summary: 'A tenant and its verified admins',
    security: ['operator'],
    pathParams: { domain: 'The tenant’s domain' },
    success: { status: 200, description: 'The tenant', schema: 'Tenant' },
    problems: ['validation', 'unauthorized', 'forbidden', 'notFound'],
  },
  {
    method: 'delete',
    path: '/api/v1/admin/tenants/{domain}/admins/{email}',
    tag: 'Operator',
    summary: 'Remove one admin (never the last one: 409 lastAdmin)',
    security: ['operator'],
    pathParams: { domain: 'The tenant’s domain', email: 'The admin’s address' },
    success: { status: 200, description: 'The tenant after the removal', schema: 'Tenant' },
    problems: ['validation', 'unauthorized', 'forbidden', 'notFound', 'conflict'],
  },
  {
    method: 'get',
    path: '/api/v1/admin/audit',
    tag: 'Operator',
    summary: 'Export one audit chain (a tenant’s, or the service chain) as NDJSON, for `npm run operator -- audit verify`',
    description:
      'One event per line in chain order, each with `seq`, `prevHash` and `hash` (SHA-256 over its canonical form, which includes `prevHash`), then a last line `{"head":{chain,seq,hash}}` with the chain’s head when the export began. Streamed from the database a page at a time. See the README, “Audit export”, for the canonical form and what a verified chain proves.',
    security: ['operator'],
    query: auditExportQuerySchema,
    success: { status: 200, description: 'The chain as NDJSON (a download)', mediaType: 'application/x-ndjson' },
    problems: ['validation', 'unauthorized', 'forbidden'],
  },
  ...(['decode', 'encode'] as const).map(
    (operation): Operation => ({
      method: 'post',
      path: `/codec/${operation}`,
      tag: 'Operator',
      summary: `The Temporal Web UI’s and CLI’s remote codec: ${operation === 'decode' ? 'decrypts' : 'encrypts'} payloads (README, “Encrypted payloads”)`,
      description:
        'Operator only: the operator token as a Bearer header (the CLI’s `--codec-auth`), or a browser signed in at GET /codec/session. From a browser only the `TEMPORAL_UI_URL` origin gets CORS; any other origin is 403. `X-Namespace`, when sent, must be this deployment’s namespace. Bodies up to 4 MiB.',
      security: ['operator'],
      requestBody: { schema: 'CodecPayloadsRequest', mediaType: 'application/json', required: true },
      success: { status: 200, description: 'The payloads, in order', schema: 'CodecPayloads' },
      problems: [...bodyProblems, ...authProblems],
    }),
  ),
  {
    method: 'get',
    path: '/codec/session',
    tag: 'Operator',
    summary: 'Signs a browser in to the codec (HTTP Basic, the operator token as the password): a cookie the Web UI sends with “Include cross-origin credentials”',
    security: ['operator'],
    success: { status: 200, description: 'Signed in for 8 hours', mediaType: 'text/plain' },
    problems: ['unauthorized', 'forbidden', 'rateLimited'],
  },
  {
    method: 'get',
    path: '/admin/queues',
    tag: 'Operator',
    summary: 'Queue dashboard (Bull Board) for the mail and webhook queues',
    security: ['operator'],
    success: { status: 200, description: 'The dashboard', mediaType: 'text/html' },
    problems: [],
    pageErrors: [401],
  },
  {
    method: 'get',
    path: '/healthz',
    tag: 'Service',
    summary: 'Liveness: the process answers',
    security: ['none'],
    success: { status: 200, description: 'Alive', schema: 'Liveness' },
    problems: [],
  },
  {
    method: 'get',
    path: '/readyz',
    tag: 'Service',
    summary: 'Readiness: Postgres, Redis and Temporal each checked (operator token: the answer names failing dependencies)',
    security: ['operator'],
    success: { status: 200, description: 'Ready (503 with the same shape when a check fails)', schema: 'Readiness' },
    problems: ['unauthorized', 'rateLimited'],
  },
  {
    method: 'get',
    path: '/metrics',
    tag: 'Service',
    summary: 'Prometheus metrics (operator token, e.g. Prometheus `authorization: {credentials: <token>}`)',
    security: ['operator'],
    success: { status: 200, description: 'Prometheus text format', mediaType: 'text/plain' },
    problems: ['unauthorized', 'rateLimited'],
  },
  {
    method: 'get',
    path: '/openapi.json',
    tag: 'Service',
    summary: 'This document',
    security: ['none'],
    success: { status: 200, description: 'OpenAPI 3.1', mediaType: 'application/json' },
    problems: [],
  },
  {
    method: 'get',
    path: '/problems/{type}',
    tag: 'Service',
    summary: 'What a problem type means',
    security: ['none'],
    pathParams: { type: 'The last segment of a problem `type`' },
    success: { status: 200, description: 'A description of the problem type', mediaType: 'text/html' },
    problems: [],
    pageErrors: [404],
  },
  {
    method: 'get',
    path: '/invitations/{token}',
    tag: 'Customer pages',
    summary: 'The authorization page the invitation email links to',
    security: ['none'],
    pathParams: { token: 'The single-use token from the email' },
    success: { status: 200, description: 'Partner, terms, roles, duration, trial; Yes / No and Next', mediaType: 'text/html' },
    problems: [],
    pageErrors: [404, 410],
  },
  {
    method: 'post',
    path: '/invitations/{token}',
    tag: 'Customer pages',
    summary: 'Answer the invitation (Yes → the trial step when one is offered → done; No → declined)',
    security: ['none'],
    pathParams: { token: 'The single-use token from the email' },
    requestBody: { schema: 'InvitationAnswerForm', mediaType: 'application/x-www-form-urlencoded', required: true },
    success: { status: 200, description: 'The trial step, or the done page', mediaType: 'text/html' },
    problems: [],
    // 409: the operator paused the partner; a Yes is refused until it is resumed (a No is taken).
    pageErrors: [400, 404, 409, 410, 413],
  },
  {
    method: 'get',
    path: '/partner-relationships',
    tag: 'Customer pages',
    summary: 'Partner relationships of the signed-in customer (or the sign-in form)',
    security: ['none'],
    query: partnerListQuerySchema,
    success: { status: 200, description: 'The list, or the sign-in form', mediaType: 'text/html' },
    problems: [],
  },
  {
    method: 'get',
    path: '/partner-relationships/audit-log',
    tag: 'Customer pages',
    summary: 'Download audit log: the signed-in admin’s own tenant’s audit chain as NDJSON (the session picks the tenant)',
    description: 'The same format as GET /api/v1/admin/audit; data meant for operators only (a trial provider’s raw error) comes as its `dataDigest`, so the chain still verifies.',
    security: ['none'],
    success: { status: 200, description: 'The chain as NDJSON (a download)', mediaType: 'application/x-ndjson' },
    problems: [],
    pageErrors: [401],
  },
  {
    method: 'post',
    path: '/sign-in',
    tag: 'Customer pages',
    summary: "Email a one-time sign-in link to the organisation's admin",
    description: 'The answer is sent before the address is looked up; each ask counts against the client (429 beyond SIGN_IN_ATTEMPTS_PER_CLIENT an hour). An admin who has a link sent within the last hour / SIGN_IN_EMAILS_PER_HOUR gets that link again rather than a new email.',
    security: ['none'],
    requestBody: { schema: 'SignInForm', mediaType: 'application/x-www-form-urlencoded', required: true },
    success: { status: 200, description: 'The same answer, byte for byte, whether or not the address is an admin', mediaType: 'text/html' },
    problems: [],
    pageErrors: [400, 429, 503],
  },
  {
    method: 'get',
    path: '/sign-in/{token}',
    tag: 'Customer pages',
    summary: 'What a sign-in link opens: a "Sign in as … to …" button; uses nothing (a mail scanner may prefetch it)',
    security: ['none'],
    pathParams: { token: 'The single-use token from the email' },
    success: { status: 200, description: 'The button that signs in', mediaType: 'text/html' },
    problems: [],
    pageErrors: [410, 429],
  },
  {
    method: 'post',
    path: '/sign-in/{token}',
    tag: 'Customer pages',
    summary: 'Use a sign-in link (once); starts a server-side session',
    security: ['none'],
    pathParams: { token: 'The single-use token from the email' },
    success: { status: 303, description: 'Redirect to Partner relationships with the session cookie set' },
    problems: [],
    pageErrors: [410, 429],
  },
  {
    method: 'post',
    path: '/sign-out',
    tag: 'Customer pages',
    summary: 'End the session (on the server: the cookie opens nothing afterwards)',
    security: ['none'],
    requestBody: { schema: 'CsrfForm', mediaType: 'application/x-www-form-urlencoded', required: true },
    success: { status: 303, description: 'Redirect to Partner relationships' },
    problems: [],
    pageErrors: [403],
  },
  {
    method: 'post',
    path: '/partner-relationships/{id}/delete',
    tag: 'Customer pages',
    summary: 'Delete: asks "Are you sure?"',
    security: ['none'],
    pathParams: relationshipId,
    requestBody: { schema: 'CsrfForm', mediaType: 'application/x-www-form-urlencoded', required: true },
    success: { status: 200, description: 'The confirmation question', mediaType: 'text/html' },
    problems: [],
    pageErrors: [401, 403, 404],
  },
  {
    method: 'post',
    path: '/partner-relationships/{id}/delete/confirm',
    tag: 'Customer pages',
    summary: 'Yes: remove the partner',
    security: ['none'],
    pathParams: relationshipId,
    requestBody: { schema: 'CsrfForm', mediaType: 'application/x-www-form-urlencoded', required: true },
    success: { status: 200, description: 'The partner was removed', mediaType: 'text/html' },
    problems: [],
    pageErrors: [401, 403, 404, 409],
  },
  ...tenantPageOperations(),
];

/** The customer pages of the tenant directory: self-service registration and the admins list. */
function tenantPageOperations(): Operation[] {
  const page = (method: 'get' | 'post', path: string, summary: string, extra: Partial<Operation> = {}): Operation => ({
    method,
    path,
    tag: 'Customer pages',
    summary,
    security: ['none'],
    success: { status: 200, description: 'A page', mediaType: 'text/html' },
    problems: [],
    ...extra,
  });
  const form = (schema: string) => ({ requestBody: { schema, mediaType: 'application/x-www-form-urlencoded' as const, required: true } });
  const token = { token: 'The token from the link' };
  const invitationToken = { token: 'The single-use token from the invitation email' };
  return [
    page('post', '/invitations/{token}/forward', 'A contact who is not an admin sends the request to the tenant’s admins (each gets a link of its own)', {
      pathParams: invitationToken,
      pageErrors: [404, 410, 503],
    }),
    page('post', '/invitations/{token}/verify-domain', 'For an unregistered domain: start its DNS proof, with the invitation’s address as the admin to be', {
      pathParams: invitationToken,
      success: { status: 303, description: 'Redirect to the verification page' },
      pageErrors: [400, 404, 410],
    }),
    page('get', '/tenants/new', 'Register an organisation (domain, name, your address)'),
    page('post', '/tenants/new', 'Email a verification link (the same answer for every domain)', { ...form('NewTenantForm'), pageErrors: [400, 429, 503] }),
    page('get', '/tenants/verify/{token}', 'The TXT record to publish, and Verify', { pathParams: token, pageErrors: [404, 410] }),
    page('post', '/tenants/verify/{token}', 'Look the TXT record up; register the tenant when it matches', {
      pathParams: token,
      ...form('VerifyDomainForm'),
      pageErrors: [404, 410, 422, 503],
    }),
    page('get', '/tenant-admins', 'Admins of the signed-in admin’s tenant', { pageErrors: [401] }),
    page('post', '/tenant-admins', 'Invite an admin (they confirm by an emailed link; ADMIN_INVITES_PER_HOUR per tenant)', { ...form('AdminEmailForm'), pageErrors: [400, 401, 403, 429, 503] }),
    page('post', '/tenant-admins/remove', 'Remove an admin (never the last one)', { ...form('AdminEmailForm'), pageErrors: [400, 401, 403, 404, 409] }),
    page('get', '/tenant-admins/confirm/{token}', 'The invited address sees what it confirms', { pathParams: token, pageErrors: [404, 410] }),
    page('post', '/tenant-admins/confirm/{token}', 'Confirm: become an admin', { pathParams: token, pageErrors: [404, 410] }),
  ];
}

/** Components from a set of zod schemas; references between them point into components/schemas. */
function componentSchemas(schemas: Record<string, z.ZodType>, io: 'input' | 'output'): Record<string, JsonSchema> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(schemas)) registry.add(schema, { id });
  const { schemas: generated } = z.toJSONSchema(registry, { io, target: 'draft-2020-12', unrepresentable: 'any', uri: (id) => `#/components/schemas/${id}` });
  return Object.fromEntries(
    Object.entries(generated).map(([id, schema]) => {
      const { $schema: _dialect, $id: _id, ...rest } = schema as JsonSchema;
      return [id, rest];
    }),
  );
}

function queryParameters(query: z.ZodObject) {
  const schema = z.toJSONSchema(query, { io: 'input', unrepresentable: 'any' }) as { properties?: Record<string, JsonSchema>; required?: string[] };
  return Object.entries(schema.properties ?? {}).map(([name, property]) => ({
    name,
    in: 'query',
    required: schema.required?.includes(name) ?? false,
    ...(typeof property.description === 'string' ? { description: property.description } : {}),
    schema: property,
  }));
}

const headerParameters = {
  IdempotencyKey: {
    name: 'Idempotency-Key',
    in: 'header',
    required: false,
    description:
      'Makes a retry safe: the same key with the same request answers what the first one answered (with `Idempotent-Replayed: true`) for 24 hours; with a different request, 422; while the first still runs, 409.',
    schema: { type: 'string', minLength: 1, maxLength: 200 },
  },
  IfMatch: {
    name: 'If-Match',
    in: 'header',
    required: false,
    description: 'The ETag from GET /api/v1/relationships/{id}; the step is refused with 412 if the relationship changed since.',
    schema: { type: 'string' },
  },
  IfNoneMatch: {
    name: 'If-None-Match',
    in: 'header',
    required: false,
    description: 'An ETag you hold; 304 Not Modified when it is still current.',
    schema: { type: 'string' },
  },
};

const responseHeaders: Record<string, { description: string; schema: JsonSchema }> = {
  ETag: { description: 'Strong validator of this representation; send it in If-Match / If-None-Match', schema: { type: 'string' } },
  Location: { description: 'Where the new resource is', schema: { type: 'string' } },
  'Retry-After': { description: 'Seconds to wait before retrying', schema: { type: 'integer' } },
  'RateLimit-Limit': { description: 'Requests allowed per window', schema: { type: 'integer' } },
  'RateLimit-Remaining': { description: 'Requests left in this window', schema: { type: 'integer' } },
};

function problemResponse(code: ErrorCode) {
  const { title, description } = problemTypes[code];
  const retries = ['rateLimited', 'pendingInvitationLimit', 'partnerMailQuota', 'stepCoolingDown', 'unavailable', 'idempotencyKeyInProgress'].includes(code);
  return {
    description: `${title} — type \`${problemTypeUri(code)}\`. ${description}`,
    ...(retries ? { headers: { 'Retry-After': responseHeaders['Retry-After'] } } : {}),
    content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
  };
}

function responsesOf(op: Operation) {
  const success = op.success;
  const responses: Record<string, unknown> = {
    [String(success.status)]: {
      description: success.description,
      ...(success.headers ? { headers: Object.fromEntries(success.headers.map((h) => [h, responseHeaders[h]])) } : {}),
      ...(success.schema
        ? { content: { 'application/json': { schema: { $ref: `#/components/schemas/${success.schema}` } } } }
        : success.mediaType
          ? { content: { [success.mediaType]: { schema: { type: 'string' } } } }
          : {}),
    },
  };
  if (op.headers?.includes('IfNoneMatch')) responses['304'] = { description: 'Not modified: the If-None-Match ETag is current', headers: { ETag: responseHeaders.ETag } };
  // Several problem types share a status; each is listed in the description of that status.
  for (const code of op.problems) {
    const status = String(problemTypes[code].status);
    const existing = responses[status] as { description: string } | undefined;
    const response = problemResponse(code);
    responses[status] = existing ? { ...response, description: `${existing.description}\n\nor: ${response.description}` } : response;
  }
  for (const status of op.pageErrors ?? []) {
    responses[String(status)] ??= { description: 'A readable page saying what went wrong', content: { 'text/html': { schema: { type: 'string' } } } };
  }
  if (op.problems.length > 0) responses['500'] = problemResponse('internal');
  return responses;
}

const securityRequirement = (security: Security[]) =>
  security.map((s) => (s === 'none' ? {} : s === 'partner' ? { partnerApiKey: [] } : s === 'enforcer' ? { enforcerKey: [] } : { operatorToken: [] }));

const subscriptionEventSummaries: Record<SubscriptionEventType, string> = {
  'subscription.declined': 'The customer authorized you and continued without the purchase',
  'subscription.requested': 'Create the subscription the customer agreed to, then complete it at `data.completeUrl` before `deadlineAt`',
  'subscription.active': 'The subscription is active (your completion, or the local provisioner)',
  'subscription.failed': 'The subscription failed: your system said so, or the deadline passed',
  'subscription.cancelled': 'The relationship ended before the request was completed: do not create it',
};

const trialEventSummaries: Record<TrialEventType, string> = {
  'trial.requested': 'Create the trial the customer took (your provisioner is `partner`), then complete it at `data.completeUrl` before `deadlineAt`',
  'trial.active': 'The trial is active (your completion)',
  'trial.failed': 'The trial failed: your system said so, or the deadline passed',
  'trial.cancelled': 'The relationship ended before the trial request was completed: do not create it',
};

/** One outgoing webhook: what partnerflow POSTs to the partner's webhookUrl. */
function webhook(type: string, summary: string, schema: keyof typeof responseSchemas) {
  return [
    type,
    {
      post: {
        summary,
        requestBody: { required: true, content: { 'application/json': { schema: { $ref: `#/components/schemas/${schema}` } } } },
        responses: { '200': { description: 'Any 2xx within 10 seconds; anything else is retried (docs/webhooks.md)' } },
      },
    },
  ] as const;
}

export function buildOpenApiDocument(options: { publicBaseUrl: string; version: string }) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of operations) {
    const parameters = [
      ...Object.entries(op.pathParams ?? {}).map(([name, description]) => ({ name, in: 'path', required: true, description, schema: { type: 'string' } })),
      ...(op.query ? queryParameters(op.query) : []),
      ...(op.headers ?? []).map((h) => ({ $ref: `#/components/parameters/${h}` })),
    ];
    (paths[op.path] ??= {})[op.method] = {
      operationId: `${op.method}${op.path.replace(/[{}]/g, '').replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : ''))}`,
      tags: [op.tag],
      summary: op.summary,
      ...(op.description ? { description: op.description } : {}),
      security: securityRequirement(op.security),
      ...(parameters.length ? { parameters } : {}),
      ...(op.requestBody
        ? {
            requestBody: {
              required: op.requestBody.required,
              content: { [op.requestBody.mediaType]: { schema: { $ref: `#/components/schemas/${op.requestBody.schema}` } } },
            },
          }
        : {}),
      responses: responsesOf(op),
    };
  }
  return {
    openapi: '3.1.1',
    info: {
      title: 'partnerflow',
      version: options.version,
      description:
        'Delegated-admin partner relationships. Partners call the JSON API with their API key; customers use the server-rendered pages reached from emails. Errors are RFC 9457 problem details whose `type` is stable.',
    },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    servers: [{ url: options.publicBaseUrl }],
    tags: [
      { name: 'Partner API', description: 'JSON, `Authorization: Bearer <partner API key>`' },
      { name: 'Access check', description: 'JSON, `Authorization: Bearer <enforcer key>` (about any partner in the enforcer’s tenants) or `<partner API key>` (about itself); docs/access.md' },
      { name: 'Operator', description: 'JSON, `Authorization: Bearer <operator token>`' },
      { name: 'Customer pages', description: 'Server-rendered HTML forms; work without JavaScript' },
      { name: 'Service', description: 'Health, metrics and documentation' },
    ],
    paths,
    // What partnerflow POSTs to a partner's webhookUrl about the partner itself and about subscriptions (docs/webhooks.md, docs/commerce.md; relationship events are described there).
    webhooks: Object.fromEntries([
      ...partnerEventTypes.map((type) => webhook(type, type === 'partner.paused' ? 'The operator paused all of the partner’s access' : 'The operator resumed the partner’s access', 'PartnerWebhookEvent')),
      ...subscriptionEventTypes.map((type) => webhook(type, subscriptionEventSummaries[type], 'SubscriptionWebhookEvent')),
      ...trialEventTypes.map((type) => webhook(type, trialEventSummaries[type], 'TrialWebhookEvent')),
    ]),
    components: {
      securitySchemes: {
        partnerApiKey: { type: 'http', scheme: 'bearer', description: 'A partner API key (`pf_…`), shown once when the operator creates the partner' },
        enforcerKey: {
          type: 'http',
          scheme: 'bearer',
          description: 'An enforcer key (`pfe_…`), shown once when the operator creates the enforcer; it may call the access check only',
        },
        operatorToken: { type: 'http', scheme: 'bearer', description: 'The operator token (OPERATOR_TOKEN)' },
      },
      parameters: headerParameters,
      schemas: { ...componentSchemas(requestSchemas, 'input'), ...componentSchemas(responseSchemas, 'output') },
    },
  };
}

export type OpenApiDocument = ReturnType<typeof buildOpenApiDocument>;
