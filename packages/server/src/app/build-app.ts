import { CourierError } from '@courier/protocol';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import { openBus } from '../bus/open-bus.ts';
import type { Bus } from '../bus/ports.ts';
import type { Config } from '../config.ts';
import type { ServerDeps } from '../deps.ts';
import { EndpointBundleFile } from '../endpoints/endpoint-bundle-file.ts';
import { endpointRoutes } from '../endpoints/endpoint-routes.ts';
import { TunnelListener } from '../endpoints/tunnel-listener.ts';
import { Gateway } from '../gateway/gateway.ts';
import { clientIpResolver, clientSourceResolver } from '../http/client-ip.ts';
import { installErrorHandling } from '../http/error-handler.ts';
import { ConnectionGuard, isRefused } from '../http/connection-guard.ts';
import { answerClientError, guardSocket, refuseUpgrade, requestPath } from '../http/upgrade.ts';
import { accountRoutes } from '../http/routes/account-routes.ts';
import { authRoutes } from '../http/routes/auth-routes.ts';
import { consentRoutes } from '../http/routes/consent-routes.ts';
import { groupRoutes } from '../http/routes/group-routes.ts';
import { mlsRoutes } from '../http/routes/mls-routes.ts';
import { healthRoutes } from '../http/routes/health-routes.ts';
import { policyRoutes } from '../http/routes/policy-routes.ts';
import { privacyRoutes } from '../http/routes/privacy-routes.ts';
import { moderationRoutes } from '../http/routes/moderation-routes.ts';
import { reportRoutes } from '../http/routes/report-routes.ts';
import { ModerationService } from '../moderation/moderation-service.ts';
import { SuspensionGate } from '../moderation/suspension-gate.ts';
import type { HttpServices } from '../http/services.ts';
import { DEFAULT_PRIVACY } from '../storage/ports.ts';
import { AccountService } from '../services/account-service.ts';
import { AuthService } from '../services/auth-service.ts';
import { ConsentLimits } from '../services/consent-limits.ts';
import { ConsentService } from '../services/consent-service.ts';
import { DeliveryService } from '../services/delivery-service.ts';
import { GroupService } from '../services/group-service.ts';
import { MlsService } from '../services/mls-service.ts';
import { PolicyBook, policyVersions } from '../privacy/policy-versions.ts';
import { PrivacyService } from '../services/privacy-service.ts';
import { ExportJobs } from '../services/export-jobs.ts';
import { RetentionJob } from '../services/retention-job.ts';
import { StorageDisclosurePort } from '../legal/disclosure-port.ts';
import { DeskService } from '../legal/desk-service.ts';
import { LegalDesk } from '../legal/legal-desk.ts';
import { POLICY_2018, policyHash } from '../legal/policy.ts';
import { StorageLegalFacts } from '../legal/storage-legal-facts.ts';
import { deskAppRoutes } from '../http/routes/desk-app-routes.ts';
import { webAppRoutes } from '../http/routes/web-app-routes.ts';
import { deskRoutes } from '../http/routes/desk-routes.ts';
import { transparencyRoutes } from '../http/routes/transparency-routes.ts';
import { LogWitness } from '../transparency/log-witness.ts';
import { loadOrCreateSigningKey, loadServerKey } from '../transparency/signing-key.ts';
import { TransparencyLog } from '../transparency/transparency-log.ts';
import { openSms } from '../sms/open-sms.ts';
import { MediaService } from '../media/media-service.ts';
import { openBlobStore } from '../media/open-blob-store.ts';
import { mediaRoutes } from '../http/routes/media-routes.ts';
import { publicStickerRoutes, stickerRoutes } from '../http/routes/sticker-routes.ts';
import { openStickerBlobStore } from '../stickers/open-sticker-store.ts';
import { StickerService } from '../stickers/sticker-service.ts';
import { channelRoutes } from '../http/routes/channel-routes.ts';
import { ChannelReadBatch } from '../channels/channel-read-batch.ts';
import { ChannelService } from '../channels/channel-service.ts';
import { openStorage } from '../storage/open-storage.ts';
import type { Storage } from '../storage/ports.ts';

export interface CourierApp {
  http: FastifyInstance;
  gateway: Gateway;
  storage: Storage;
  bus: Bus;
  delivery: DeliveryService;
  retention: RetentionJob;
  exports: ExportJobs;
  transparency: TransparencyLog;
  legal: LegalDesk;
  desk: DeskService;
  moderation: ModerationService;
  media: MediaService;
  stickers: StickerService;
  channels: ChannelService;
  /** Stops taking work, drains pending writes and closes every adapter. */
  close(): Promise<void>;
}

/**
 * The composition root: picks the adapters the config names, wires services, routes and the
 * gateway. It never opens a port; `main.ts` (or a test) decides whether and where to listen.
 */
export async function buildApp(config: Config, deps: ServerDeps): Promise<CourierApp> {
  const storage = await openStorage(config.storage);
  const bus = await openBus(config.bus, (error) =>
    deps.logger.error({ err: error }, 'bus subscriber failed'),
  );
  // Only main.ts reads the environment: it passes process.env here.
  const env = deps.env ?? {};
  const sms = deps.sms ?? openSms(config.sms, deps.logger, env, config.dev);
  const clientIp = clientIpResolver(config.trustedProxies);
  const clientSource = clientSourceResolver(config.trustedProxies);
  const recordIps = config.retention.ipMonths > 0;
  const policies = new PolicyBook(deps.policies ?? policyVersions, deps.clock);
  const auth = new AuthService(
    storage,
    bus,
    sms,
    config.auth,
    deps,
    policies,
    recordIps,
    { ...DEFAULT_PRIVACY, groupAdd: config.consent.defaultGroupAdd },
    new SuspensionGate(config.reports.appeal),
  );
  const accounts = new AccountService(storage, policies);
  const consentLimits = new ConsentLimits(storage.rateLimits, config.consent, deps.clock);
  const groups = new GroupService(storage, bus, config.groups.memberCap, deps, consentLimits);
  const consent = new ConsentService(storage, groups, consentLimits, deps.clock);
  const mls = new MlsService(storage, bus, deps.clock, groups, {
    certificationKey: loadServerKey(
      { file: config.mls.certificationKeyFile, env: config.mls.certificationKeyEnv },
      env,
    ),
    maxOneTimeKeyPackages: config.mls.maxOneTimeKeyPackages,
    claimLimits: {
      windowMs: config.limits.keyPackageClaimWindowMs,
      oneTimePerDevice: config.limits.oneTimeClaimsPerDevice,
      oneTimePerClaimerPerDevice: config.limits.oneTimeClaimsPerClaimerPerDevice,
      requestsPerClaimer: config.limits.claimRequestsPerClaimer,
    },
  });
  const exports = new ExportJobs(
    storage,
    deps.clock,
    deps.random,
    policies,
    {
      dir: config.exports.dir,
      keepMs: config.retention.exportArchiveHours * 3_600_000,
      staleAfterMs: config.exports.staleAfterMs,
    },
    deps.logger,
  );
  const media = new MediaService(
    storage,
    await openBlobStore(config.media.store, env),
    config.media,
    deps.clock,
    deps.random,
    deps.logger,
  );
  const stickers = new StickerService(
    storage,
    await openStickerBlobStore(config, env),
    config.stickers,
    deps.clock,
    deps.random,
    deps.logger,
  );
  const privacy = new PrivacyService(storage, bus, groups, deps.clock, policies, exports, media, stickers);
  const channels = new ChannelService(
    storage,
    bus,
    deps,
    {
      pageBytes: config.limits.catchUpPageBytes,
      subscriptionChanges: config.limits.channelSubscriptionChangesPerAccount,
      subscriptionWindowMs: config.limits.channelSubscriptionWindowMs,
    },
    media,
  );
  const delivery = new DeliveryService(
    storage,
    bus,
    deps.clock,
    deps.logger,
    config.delivery.lazyFlushMs,
    recordIps,
    config.limits.mailboxBytesPerDevice,
  );
  const channelReads = new ChannelReadBatch(storage, config.delivery.channelReadFlushMs, deps.logger);
  const gateway = new Gateway({
    storage,
    auth,
    delivery,
    channelReads,
    clock: deps.clock,
    logger: deps.logger,
    config: config.delivery,
    limits: config.limits,
    clientIp,
    preHelloBytes: config.connections.preHelloBytes,
  });
  channels.setCommitListener((rows) => gateway.onChannelPostsCommitted(rows));
  bus.subscribe((signal) => gateway.onSignal(signal));
  bus.onResume(() => void gateway.resume());
  const signingKey = loadServerKey(
    { file: config.transparency.keyFile, env: config.transparency.keyEnv },
    env,
  );
  const transparency = new TransparencyLog(
    storage,
    { origin: config.transparency.origin, keyName: config.transparency.keyName, privateKey: signingKey },
    deps.clock,
    LogWitness.forConfig(config),
  );
  // A log that was rolled back, forked or edited stops the server here (DESIGN §6).
  await transparency.verifyIntegrity();
  const disclosurePolicy = () => POLICY_2018;
  await recordPolicy(transparency, storage, disclosurePolicy(), deps.clock.now());
  const legal = new LegalDesk({
    cases: storage.legalCases,
    log: transparency,
    port: new StorageDisclosurePort(storage),
    facts: new StorageLegalFacts(storage),
    policy: disclosurePolicy,
    clock: deps.clock,
    signingKey,
  });
  const desk = new DeskService(storage.desk, storage.legalCases, legal, deps.clock, config.desk);
  const moderation = new ModerationService(
    storage,
    bus,
    deps.clock,
    deps.random,
    config.reports,
    transparency,
  );
  const resignTimer = setInterval(() => {
    transparency
      .resign()
      .catch((error: unknown) => deps.logger.error({ err: error }, 'checkpoint re-signing failed'));
  }, config.transparency.resignIntervalMs);
  resignTimer.unref();
  const retention = new RetentionJob(storage, privacy, deps.clock, config, deps.logger, exports, media);

  const limits = config.connections;
  const http = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    bodyLimit: 1024 * 1024,
    // Slow or oversized requests (issue 11, item 4): a head dribbled in, or a body a byte at a
    // time, is cut with REQ_TIMEOUT; headers past maxHeaderBytes get REQ_HEADERS_TOO_LARGE.
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    http: {
      maxHeaderSize: limits.maxHeaderBytes,
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      connectionsCheckingInterval: limits.timeoutCheckIntervalMs,
    },
    clientErrorHandler: answerClientError,
    logController: new LogController({ disableRequestLogging: true }),
    // Bodies must match their schema exactly: no type coercion, unknown keys refused.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false } },
  });
  installErrorHandling(http);
  const connectionGuard = new ConnectionGuard(limits, deps.clock, [
    ...config.trustedProxies,
    ...limits.exemptAddresses,
  ]);
  connectionGuard.attach(http.server);
  http.addHook('onRequest', (request, reply, done) => {
    // A connection refused at connect was answered then; what it still sends is not served.
    if (isRefused(request.raw.socket)) {
      reply.hijack();
      request.raw.socket.destroy();
      return;
    }
    reply.header('x-content-type-options', 'nosniff');
    done();
  });
  const services: HttpServices = {
    auth,
    accounts,
    groups,
    consent,
    privacy,
    exports,
    storage,
    clientIp,
    clientSource,
    policies,
  };
  const endpointBundle = config.endpoints.bundleFile
    ? new EndpointBundleFile(config.endpoints.bundleFile)
    : undefined;
  const webKeys = config.endpoints.webKeys;
  await http.register(async (scope) => {
    await webAppRoutes(
      scope,
      undefined,
      endpointBundle && webKeys ? { keys: webKeys, urls: () => endpointBundle.load().urls } : undefined,
    );
    await healthRoutes(scope, services);
    await authRoutes(scope, services);
    await policyRoutes(scope, services);
    await transparencyRoutes(scope, transparency, deps.clock);
    await publicStickerRoutes(scope, stickers);
  });
  await http.register(async (scope) => {
    scope.decorateRequest('principal');
    scope.addHook('onRequest', async (request) => {
      const header = request.headers.authorization;
      if (header !== undefined && !header.startsWith('Bearer ')) throw new CourierError('AUTH_INVALID_TOKEN');
      request.principal = await auth.authenticate(header?.slice('Bearer '.length));
    });
    await accountRoutes(scope, services);
    await groupRoutes(scope, services);
    await consentRoutes(scope, services);
    await mlsRoutes(scope, mls);
    await privacyRoutes(scope, services);
    await reportRoutes(scope, moderation);
    await mediaRoutes(scope, media);
    await stickerRoutes(scope, stickers, config.stickers.maxBytes);
    await channelRoutes(scope, channels);
  });
  await deskRoutes(http, desk, clientIp);
  await moderationRoutes(http, desk, moderation);
  await deskAppRoutes(http);
  const tunnel = config.endpoints.tunnel
    ? new TunnelListener(config.endpoints.tunnel, http.server, limits.headersTimeoutMs)
    : undefined;
  // Made at start (not on first use) so that the first node's data folder holds every key to copy.
  const subsetSecret = loadOrCreateSigningKey(config.endpoints.subsetSecretFile);
  await http.register(async (scope) =>
    endpointRoutes(scope, {
      bundle: endpointBundle,
      subsetSecret: () => subsetSecret,
      relaysPerAccount: config.endpoints.relaysPerAccount,
      clock: deps.clock,
      accountOf: async (token) => (await auth.authenticate(token)).accountId,
    }),
  );
  // No framework catches in an upgrade listener: whatever throws is logged and the socket dropped.
  http.server.on('upgrade', (request, socket, head) => {
    guardSocket(socket);
    if (isRefused(socket)) {
      socket.destroy();
      return;
    }
    try {
      if (requestPath(request.url) === undefined) {
        refuseUpgrade(
          socket,
          new CourierError('REQ_INVALID', { message: 'The request target does not parse.' }),
        );
        return;
      }
      const refusal = connectionGuard.admitUpgrade(socket, clientIp(request));
      if (refusal) {
        refuseUpgrade(socket, refusal);
        return;
      }
      if (tunnel?.handleUpgrade(request, socket, head)) return;
      if (!gateway.handleUpgrade(request, socket, head)) socket.destroy();
    } catch (error) {
      deps.logger.error({ err: error }, 'upgrade failed');
      socket.destroy();
    }
  });
  retention.start();
  exports.startRunner(config.exports.pollIntervalMs);

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      retention.stop();
      await exports.stop();
      clearInterval(resignTimer);
      await gateway.close();
      await http.close();
      await delivery.drain();
      await channelReads.flush();
      await bus.close();
      await media.close();
      await stickers.close();
      await storage.close();
    })();
    return closing;
  };
  return {
    http,
    gateway,
    storage,
    bus,
    delivery,
    retention,
    exports,
    transparency,
    legal,
    desk,
    moderation,
    media,
    stickers,
    channels,
    close,
  };
}

/** P9: the policy in force is hashed into the log whenever it changes (and on the first start). */
async function recordPolicy(
  log: TransparencyLog,
  storage: Storage,
  policy: typeof POLICY_2018,
  now: number,
): Promise<void> {
  const hash = policyHash(policy);
  const leaves = await storage.transparencyLog.leaves(0, Number.MAX_SAFE_INTEGER);
  const last = leaves
    .map((l) => JSON.parse(l.leaf) as { type: string; policyHash?: string })
    .filter((l) => l.type === 'policy')
    .at(-1);
  if (last?.policyHash !== hash) {
    await log.append({ v: 1, type: 'policy', at: now, policyVersion: policy.version, policyHash: hash });
  }
}
