import { CourierError } from '@courier/protocol';

/**
 * The catalog code a call fails with. A call that succeeds fails the test; an error that is not a
 * CourierError (a crash, an untyped error) is rethrown as it is.
 */
export async function failure(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof CourierError) return error.code;
    throw error;
  }
  throw new Error('expected a failure');
}
