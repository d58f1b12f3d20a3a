import type { IncomingMessage, ServerResponse } from 'node:http';
import cookieParser from 'cookie-parser';
import express, { type Express } from 'express';
import helmet from 'helmet';
import { Counter, type Registry } from 'prom-client';
import type { ApiParts } from './system.js';
import { createAuthFailures, withAuthFailureLimit } from '../http/authFailures.js';
import type { AuthenticateKey } from '../http/auth.js';
import { AppError, problemJsonHandler } from '../http/errors.js';
import { requireOperatorToken } from '../http/operatorAuth.js';
import { TRUSTED_PROXIES } from '../http/clientAddress.js';
import { messagePage } from '../customerPages/pages/invitationPages.js';
import { mountQueueDashboard } from '../operator/queueDashboard.js';
import { createIdempotency } from '../http/idempotency.js';
import { createPendingInvitationCap } from '../relationships/pendingInvitationCap.js';
import { createPartnerMailQuota } from '../relationships/partnerMailQuota.js';
import { createWebhookTargetPolicy } from '../webhooks/webhookTarget.js';
import { createRateLimit } from '../http/rateLimits.js';
import { createRelationshipService } from '../relationships/relationshipService.js';
import { createSignInAttempts } from '../customerPages/signInAttempts.js';
import { apiDocs } from '../apiDocs/apiDocsRoutes.js';
import { customerPageErrors, customerPages } from '../customerPages/customerPages.js';
import { healthRoutes } from '../operator/healthRoutes.js';
import { CODEC_PATH, codecRoutes } from '../operator/codecRoutes.js';
import { payloadCodecOf } from '../infra/payloadCodec.js';
import { partnerRoutes, roleCatalogRoute } from '../partnerApi/partnerRoutes.js';
import { accessRoutes } from '../accessApi/accessRoutes.js';
import { ACCESS_PATHS, accessKindOf, createAccessEndpoint } from '../accessApi/accessEndpoint.js';
import { createAccessCheck } from '../access/accessCheck.js';
import { createAccessGrants } from '../access/accessGrants.js';
import { createLeasedRateLimit } from '../http/leasedRateLimit.js';
import { adminRoutes } from '../operator/adminRoutes.js';
import { deadLetterRoutes } from '../operator/deadLetterRoutes.js';
import { authenticated, jsonBodies } from '../http/jsonApi.js';
import { requestTracing } from '../http/requestTracing.js';
import { createEnforcers, ENFORCER_KEYS } from '../enforcers/enforcers.js';
import { createPartnerKeys } from '../partners/partnerKeys.js';
import { createPartnerPause } from '../partners/partnerPause.js';
import { createWebhookOutbox } from '../webhooks/webhookOutbox.js';
import { createTxtLookup } from '../tenants/dnsTxtLookup.js';
import { createDomainChallenges } from '../tenants/domainChallenge.js';
import { createTenantDirectory } from '../tenants/tenantDirectory.js';

/** The version of the HTTP API, as /openapi.json states it. */
const API_VERSION = '1.0.0';

/** The API process's parts (src/system/system.ts) and its metrics registry. */
export type AppDeps = Pick<ApiParts, 'config' | 'db' | 'accessPool' | 'redis' | 'temporal' | 'mail' | 'log' | 'mailQueue' | 'webhookQueue' | 'tracing'> & { registry: Registry };

/** What serves the API's HTTP requests: the access check's fast path in front of the Express app (`express`, for introspection). */
export type HttpApp = ((req: IncomingMessage, res: ServerResponse) => void) & { express: Express };

/** Builds the request listener; `apiMain.ts` listens. Tests and the bench mount it on their own server. */
export function buildApp(deps: AppDeps): HttpApp {
  const { config, log } = deps;
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', TRUSTED_PROXIES);
  // First, so everything after runs in the request's span; not installed at all while tracing is off.
  if (deps.tracing.enabled) app.use(requestTracing());

  const requests = new Counter({
    name: 'partnerflow_http_requests_total',
    help: 'HTTP requests by method, route and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [deps.registry],
  });
  app.use((req, res, next) => {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const route = (req.route as { path?: string } | undefined)?.path ?? 'unmatched';
      requests.inc({ method: req.method, route, status: String(res.statusCode) });
      log.debug({ event: 'http.request', method: req.method, path: req.path, status: res.statusCode, ms: Number(process.hrtime.bigint() - started) / 1e6 }, 'request');
    });
    next();
  });

  // The partner's own events (paused, resumed) and the operator's dead letters go through it.
  const webhooks = createWebhookOutbox(deps.db, deps.webhookQueue, { attempts: config.WEBHOOK_ATTEMPTS, backoffMs: config.WEBHOOK_BACKOFF_MS }, { log });

  // Our own Redis keys live under the deployment's prefix, like BullMQ's.
  const keyPrefix = config.QUEUE_PREFIX;

  // One count of failed credentials per client address, whichever door they were tried at;
  // each process refuses the addresses it learned are blocked without asking Redis (authFailures.ts).
  const authFailures = createAuthFailures(
    createRateLimit({
      redis: deps.redis,
      keyPrefix: `${keyPrefix}:ratelimit:authfail`,
      points: config.AUTH_FAILURE_LIMIT,
      windowSeconds: config.AUTH_FAILURE_WINDOW_SECONDS,
      counts: 'failed authentications from one address',
    }),
  );

  // The access check first: the most frequent request by far, it needs none of what follows.
  const checkBudget = (holder: string, points: number) =>
    createLeasedRateLimit({
      redis: deps.redis,
      keyPrefix: `${keyPrefix}:ratelimit:access-${holder}`,
      points,
      windowSeconds: config.ACCESS_CHECK_WINDOW_SECONDS,
      counts: `access checks per ${holder}`,
    });
  const access = createAccessCheck({
    grants: createAccessGrants(deps.accessPool),
    partnerChecks: checkBudget('partner', config.ACCESS_CHECKS_PER_PARTNER),
    enforcerChecks: checkBudget('enforcer', config.ACCESS_CHECKS_PER_ENFORCER),
  });
  const accessEndpoint = createAccessEndpoint({ access, authFailures, operatorToken: config.OPERATOR_TOKEN, log });
  app.use('/api/v1', accessRoutes(accessEndpoint));

  app.use(helmet());
  app.use(cookieParser(config.SESSION_SECRET));
  const relationships = createRelationshipService({
    db: deps.db,
    temporal: deps.temporal,
    log,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    namespace: config.TEMPORAL_NAMESPACE,
    temporalUiUrl: config.TEMPORAL_UI_URL,
    pendingInvitations: createPendingInvitationCap({ db: deps.db, max: config.PARTNER_MAX_PENDING_INVITATIONS }),
    // Offers and resends each email an invitation: counted per partner per hour (429 beyond it).
    partnerMail: createPartnerMailQuota({ db: deps.db, perHour: config.PARTNER_MAIL_PER_HOUR }),
    offers: {
      allowShortDurations: config.ALLOW_SHORT_DURATIONS,
      resendCooldownMs: config.RESEND_COOLDOWN_SECONDS * 1000,
      resendsPerInvitation: config.RESENDS_PER_INVITATION,
      autoExtendChangesPerRelationship: config.AUTO_EXTEND_CHANGES_PER_RELATIONSHIP,
    },
  });

  const tenants = createTenantDirectory(deps.db, config.LINK_SECRET);
  const challenges = createDomainChallenges(deps.db, createTxtLookup(config.DNS_SERVERS ? { servers: config.DNS_SERVERS } : {}), config.LINK_SECRET);

  const operatorOnly = withAuthFailureLimit(requireOperatorToken(config.OPERATOR_TOKEN), authFailures);
  app.use(healthRoutes({ db: deps.db, redis: deps.redis, temporal: deps.temporal, registry: deps.registry, operatorOnly, log }));
  mountQueueDashboard(app, { queues: [deps.mailQueue, deps.webhookQueue], operatorToken: config.OPERATOR_TOKEN, authFailures });
  // The Temporal Web UI's and CLI's remote codec: operators read the encrypted payloads there.
  app.use(
    CODEC_PATH,
    codecRoutes({
      codec: payloadCodecOf(config),
      operatorToken: config.OPERATOR_TOKEN,
      webUiUrl: config.TEMPORAL_UI_URL,
      namespace: config.TEMPORAL_NAMESPACE,
      secureCookies: config.PUBLIC_BASE_URL.startsWith('https:'),
      authFailures,
      log,
    }),
  );
  app.use(apiDocs({ publicBaseUrl: config.PUBLIC_BASE_URL, version: API_VERSION }));
  const idempotency = createIdempotency({ redis: deps.redis, keyPrefix, ttlSeconds: config.IDEMPOTENCY_TTL_SECONDS });
  const partnerKeys = createPartnerKeys(deps.db);
  const enforcers = createEnforcers(deps.db);
  /** A bearer key is an enforcer's (`pfe_…`) or a partner's (`pf_…`): looked up in that one table. */
  const authenticateKey: AuthenticateKey = async (key) => {
    if (key.startsWith(ENFORCER_KEYS.tag)) {
      const enforcer = await enforcers.authenticate(key);
      return enforcer && { kind: 'enforcer', ...enforcer };
    }
    const partner = (await partnerKeys.authenticate(key))?.holder;
    return partner ? { kind: 'partner', ...partner } : null;
  };
  app.use('/api/v1', jsonBodies(), roleCatalogRoute());
  app.use(
    '/api/v1',
    authenticated({
      // An enforcer key asks the access question (above) and nothing else: 403 on every route here.
      authenticateKey,
      operatorToken: config.OPERATOR_TOKEN,
      authFailures,
      // Leased, like the access check's budgets: no Redis round trip per request.
      rateLimit: createLeasedRateLimit({
        redis: deps.redis,
        keyPrefix: `${keyPrefix}:ratelimit:partner`,
        points: config.PARTNER_RATE_LIMIT_POINTS,
        windowSeconds: config.PARTNER_RATE_LIMIT_WINDOW_SECONDS,
        counts: 'requests',
      }),
    }),
    adminRoutes({
      db: deps.db,
      tenants,
      enforcers,
      idempotency,
      webhookTargets: createWebhookTargetPolicy({ allowPrivate: config.WEBHOOK_ALLOW_PRIVATE_TARGETS }),
      partnerPause: createPartnerPause({
        db: deps.db,
        mail: deps.mail,
        webhooks,
        log,
      }),
    }),
    deadLetterRoutes({ outboxes: { mail: deps.mail.deadLetters, webhook: webhooks.deadLetters }, registry: deps.registry }),
    partnerRoutes({ relationships, idempotency }),
  );
  app.use('/api/v1', (_req, _res, next) => next(new AppError('notFound', 'No such API route.')));
  app.use('/api/v1', problemJsonHandler(log));
  app.use(
    customerPages({
      db: deps.db,
      relationships,
      tenants,
      challenges,
      mail: deps.mail,
      publicBaseUrl: config.PUBLIC_BASE_URL,
      linkSecret: config.LINK_SECRET,
      log,
      redis: deps.redis,
      signInAttempts: createSignInAttempts({ redis: deps.redis, keyPrefix: `${keyPrefix}:ratelimit:signin-client`, points: config.SIGN_IN_ATTEMPTS_PER_CLIENT, windowSeconds: 3600 }),
      signInEmailsPerHour: config.SIGN_IN_EMAILS_PER_HOUR,
      verificationLimit: createRateLimit({
        redis: deps.redis,
        keyPrefix: `${keyPrefix}:ratelimit:verification`,
        points: config.SIGN_IN_EMAILS_PER_HOUR,
        windowSeconds: 3600,
      }),
      adminInviteLimit: createRateLimit({
        redis: deps.redis,
        keyPrefix: `${keyPrefix}:ratelimit:admin-invite`,
        points: config.ADMIN_INVITES_PER_HOUR,
        windowSeconds: 3600,
        counts: 'admin invitations from one organisation',
      }),
    }),
  );

  // Customers get a readable page, never a stack trace.
  app.use((_req, res) => {
    res.status(404).send(messagePage('Page not found', 'There is nothing at this address.'));
  });
  app.use(customerPageErrors(log));

  // The access check's two exact paths skip Express altogether (src/accessApi/accessEndpoint.ts).
  const listener = (req: IncomingMessage, res: ServerResponse) => {
    const kind = accessKindOf(req);
    if (!kind) {
      app(req, res);
      return;
    }
    void accessEndpoint.serve(req, res, kind).then(() => requests.inc({ method: req.method, route: ACCESS_PATHS[kind], status: String(res.statusCode) }));
  };
  return Object.assign(listener, { express: app });
}
