import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { pinnedKeys } from './endpoint-failover.ts';

describe('the pinned endpoint-list keys a page carries', () => {
  it('are 32-byte keys in base64; anything else pins nothing (no failover rather than a wrong pin)', () => {
    const key = new Uint8Array(32).fill(7);
    const text = btoa(String.fromCharCode(...key));
    expect(pinnedKeys([text])).toEqual([key]);
    expect(pinnedKeys([text, ` ${text} `])).toEqual([key, key]);
    expect(pinnedKeys([])).toEqual([]);
    expect(pinnedKeys([text, 'not base64!'])).toEqual([]);
    expect(pinnedKeys([btoa('short')])).toEqual([]);
    fc.assert(
      fc.property(fc.array(fc.string(), { maxLength: 3 }), (texts) => {
        for (const pinned of pinnedKeys(texts)) expect(pinned.length).toBe(32);
      }),
    );
  });
});
