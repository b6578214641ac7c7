import { CourierError } from '@courier/protocol';
import type { FastifyInstance } from 'fastify';
import type { HttpServices } from '../services.ts';

/**
 * Liveness (the process answers) and readiness (storage answers and takes writes: a node whose
 * database went read-only, is locked or failed must leave the load balancer, not keep failing sends).
 */
export async function healthRoutes(app: FastifyInstance, services: HttpServices): Promise<void> {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (request, reply) => {
    try {
      await services.storage.ping();
    } catch {
      return reply
        .status(503)
        .send(new CourierError('SERVER_UNAVAILABLE', { message: 'Storage does not answer.' }).toEnvelope());
    }
    try {
      await services.storage.probeWrite();
      return { status: 'ok' };
    } catch (error) {
      request.log.warn({ err: error }, 'storage refuses writes');
      return reply
        .status(503)
        .send(
          new CourierError('SERVER_UNAVAILABLE', { message: 'Storage does not take writes.' }).toEnvelope(),
        );
    }
  });
}
