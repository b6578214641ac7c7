import { CourierError } from '@courier/protocol';
import type { FastifyError, FastifyInstance } from 'fastify';
import { typedFailure } from '../storage/storage-unavailable.ts';
import { validationMessage } from './validation-message.ts';

/** Every failure leaves as the one envelope with a catalog code; internal details stay in the log. */
export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | CourierError, request, reply) => {
    let typed: CourierError;
    if (error instanceof CourierError) {
      typed = error;
    } else if ('validation' in error && error.validation) {
      const message = validationMessage(error.validation, error.validationContext);
      typed = new CourierError('REQ_INVALID', { message, cause: error });
    } else if (error.statusCode === 413 || error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      typed = new CourierError('REQ_INVALID', { message: 'The request body is too large.', cause: error });
    } else if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
      typed = new CourierError('REQ_INVALID', { message: error.message, cause: error });
    } else {
      typed = typedFailure(error);
    }
    if (typed.status >= 500) request.log.error({ err: error }, 'request failed');
    void reply.status(typed.status).send(typed.toEnvelope());
  });
  app.setNotFoundHandler((_request, reply) => {
    void reply.status(404).send(new CourierError('REQ_NOT_FOUND').toEnvelope());
  });
}
