import { CourierError } from '@courier/protocol';
import type { FastifyInstance } from 'fastify';
import type { HttpServices } from '../services.ts';

/**
 * Liveness (the process answers) and readiness (storage answers and takes writes: a node whose
 * database went read-only, is locked or failed leaves the load balancer rather than fail sends).
 */
export async function healthRoutes(app: FastifyInstance, services: HttpServices): Promise<void> {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    try {
      await services.storage.ping();
      await services.storage.probeWrite();
      return { status: 'ok' };
    } catch (cause) {
      const error = new CourierError('STORAGE_UNAVAILABLE', { message: 'Storage does not answer.', cause });
      return reply.status(error.status).send(error.toEnvelope());
    }
  });
}
