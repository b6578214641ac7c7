import { CourierError, errorCatalog } from '@courier/protocol';
import { describe, expect, test } from 'vitest';
import { importGroupState } from './group-state-codec.ts';
import { MLS_ERROR_CODES, MlsError } from './mls-error.ts';

describe('MlsError codes', () => {
  test('every code this package throws is in the one error catalog, with its status', () => {
    for (const code of MLS_ERROR_CODES) {
      expect(errorCatalog[code], code).toMatchObject({
        status: expect.any(Number),
        message: expect.any(String),
      });
    }
  });

  test('a thrown MlsError maps to a catalog error as it is', () => {
    let thrown: unknown;
    try {
      importGroupState(new Uint8Array([99, 1, 2]));
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(MlsError);
    const code = (thrown as MlsError).code;
    expect(code).toBe('MLS_STATE_VERSION');
    expect(new CourierError(code).status).toBe(500);
  });
});
