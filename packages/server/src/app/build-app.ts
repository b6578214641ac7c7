import { CourierError } from '@courier/protocol';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import { openBus } from '../bus/open-bus.ts';
import type { Bus } from '../bus/ports.ts';
import type { Config } from '../config.ts';
import type { ServerDeps } from '../deps.ts';
import { Gateway } from '../gateway/gateway.ts';
import { clientIpResolver } from '../http/client-ip.ts';
import { installErrorHandling } from '../http/error-handler.ts';
import { accountRoutes } from '../http/routes/account-routes.ts';
import { authRoutes } from '../http/routes/auth-routes.ts';
import { groupRoutes } from '../http/routes/group-routes.ts';
import { healthRoutes } from '../http/routes/health-routes.ts';
import { homeRoutes } from '../http/routes/home-routes.ts';
import { policyRoutes } from '../http/routes/policy-routes.ts';
import { privacyRoutes } from '../http/routes/privacy-routes.ts';
import type { HttpServices } from '../http/services.ts';
import { AccountService } from '../services/account-service.ts';
import { AuthService } from '../services/auth-service.ts';
import { DeliveryService } from '../services/delivery-service.ts';
import { GroupService } from '../services/group-service.ts';
import { PolicyBook, policyVersions } from '../privacy/policy-versions.ts';
import { PrivacyService } from '../services/privacy-service.ts';
import { RetentionJob } from '../services/retention-job.ts';
import { openSms } from '../sms/open-sms.ts';
import { openStorage } from '../storage/open-storage.ts';
import type { Storage } from '../storage/ports.ts';

export interface CourierApp {
  http: FastifyInstance;
  gateway: Gateway;
  storage: Storage;
  bus: Bus;
  delivery: DeliveryService;
  retention: RetentionJob;
  /** Stops taking work, drains pending writes and closes every adapter. */
  close(): Promise<void>;
}

/**
 * The composition root: picks the adapters the config names, wires services, routes and the
 * gateway. It never opens a port; `main.ts` (or a test) decides whether and where to listen.
 */
export async function buildApp(config: Config, deps: ServerDeps): Promise<CourierApp> {
  const storage = await openStorage(config.storage);
  const bus = await openBus(config.bus);
  const sms = deps.sms ?? openSms(config.sms, deps.logger, process.env);
  const clientIp = clientIpResolver(config.trustedProxies);
  const recordIps = config.retention.ipMonths > 0;
  const policies = new PolicyBook(deps.policies ?? policyVersions, deps.clock);
  const auth = new AuthService(storage, bus, sms, config.auth, deps, policies, recordIps);
  const accounts = new AccountService(storage, policies);
  const groups = new GroupService(storage, bus, config.groups.memberCap, deps);
  const privacy = new PrivacyService(storage, bus, groups, deps.clock, policies);
  const delivery = new DeliveryService(
    storage,
    bus,
    deps.clock,
    deps.logger,
    config.delivery.lazyFlushMs,
    recordIps,
  );
  const gateway = new Gateway({
    storage,
    auth,
    delivery,
    clock: deps.clock,
    logger: deps.logger,
    config: config.delivery,
    clientIp,
  });
  bus.subscribe((signal) => gateway.onSignal(signal));
  bus.onResume(() => void gateway.resume());
  const retention = new RetentionJob(storage, privacy, deps.clock, config, deps.logger);

  const http = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    bodyLimit: 1024 * 1024,
    logController: new LogController({ disableRequestLogging: true }),
    // Bodies must match their schema exactly: no type coercion, unknown keys refused.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false } },
  });
  installErrorHandling(http);
  const services: HttpServices = { auth, accounts, groups, privacy, storage, clientIp, policies };
  await http.register(async (scope) => {
    await homeRoutes(scope);
    await healthRoutes(scope, services);
    await authRoutes(scope, services);
    await policyRoutes(scope, services);
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
    await privacyRoutes(scope, services);
  });
  http.server.on('upgrade', (request, socket, head) => {
    if (!gateway.handleUpgrade(request, socket, head)) socket.destroy();
  });
  retention.start();

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      retention.stop();
      await gateway.close();
      await http.close();
      await delivery.drain();
      await bus.close();
      await storage.close();
    })();
    return closing;
  };
  return { http, gateway, storage, bus, delivery, retention, close };
}
