import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderErrorsDoc } from './errors-doc.ts';
import { CourierError, errorCatalog } from './errors.ts';

describe('error catalog', () => {
  it('names every code AREA_WHAT with a real HTTP status', () => {
    for (const [code, { status }] of Object.entries(errorCatalog)) {
      expect(code).toMatch(/^[A-Z]+(_[A-Z0-9]+)+$|^INTERNAL$/);
      expect(status).toBeGreaterThanOrEqual(400);
      expect(status).toBeLessThan(600);
    }
  });

  it('is documented in docs/errors.md exactly as the catalog says', () => {
    const doc = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');
    expect(doc).toBe(renderErrorsDoc());
  });

  it('wraps a lower error as cause and renders the envelope', () => {
    const cause = new Error('disk full');
    const error = new CourierError('INTERNAL', { cause, details: { retry: true } });
    expect(error.cause).toBe(cause);
    expect(error.toEnvelope()).toEqual({
      error: { code: 'INTERNAL', message: errorCatalog.INTERNAL.message, details: { retry: true } },
    });
  });
});
