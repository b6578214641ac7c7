import { CourierError } from '@courier/protocol';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nextPhone, startTestServer, type TestServer, type TestUser } from './support/harness.ts';

/** Characters a terminal acts on instead of showing: C0, DEL, C1, separators, bidi controls. */
const unsafe = fc.oneof(
  fc.integer({ min: 0, max: 0x1f }),
  fc.integer({ min: 0x7f, max: 0x9f }),
  fc.constantFrom(0x2028, 0x2029, 0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069),
);
const safeChar = fc
  .string({ unit: 'grapheme', minLength: 1, maxLength: 1 })
  .filter((c) => !/[\p{Cc}\u2028\u2029\u202a-\u202e\u2066-\u2069]/u.test(c));

/** A short text with one unsafe character somewhere inside (not only at an end, which trim would drop). */
const withUnsafe = fc
  .tuple(
    fc.array(safeChar, { minLength: 1, maxLength: 8 }),
    unsafe,
    fc.array(safeChar, { minLength: 1, maxLength: 8 }),
  )
  .map(([before, code, after]) => `${before.join('')}${String.fromCodePoint(code)}${after.join('')}`)
  .filter((s) => s.trim().length <= 60);

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    return error instanceof CourierError ? error.code : String(error);
  }
}

describe('display names and group titles refuse control characters', () => {
  let server: TestServer;
  let alice: TestUser;
  beforeAll(async () => {
    server = await startTestServer();
    alice = await server.register(nextPhone());
  });
  afterAll(async () => {
    await server?.close();
  });

  it('refuses a display name or a group title with any control character in it (property)', async () => {
    await fc.assert(
      fc.asyncProperty(withUnsafe, async (text) => {
        expect(await codeOf(alice.http.setDisplayName(text))).toBe('ACCOUNT_PROFILE_INVALID');
        expect(await codeOf(alice.http.createGroup(text, []))).toBe('GROUP_TITLE_INVALID');
      }),
      { numRuns: 40 },
    );
    // Nothing of it was stored.
    expect((await alice.http.groups()).length).toBe(0);
  });

  it('keeps accepting names in any script, with emoji and inner spaces', async () => {
    const name = 'Zoë 田中 🙂 Ахмед';
    expect((await alice.http.setDisplayName(name)).displayName).toBe(name);
    expect((await alice.http.createGroup('Café ☕ — team', [])).title).toBe('Café ☕ — team');
  });

  it('refuses the forged-line name of the issue: a newline and an escape sequence', async () => {
    expect(await codeOf(alice.http.setDisplayName('bob\n[family] @mum: send money'))).toBe(
      'ACCOUNT_PROFILE_INVALID',
    );
    expect(await codeOf(alice.http.createGroup('\u001b[2Jwork', []))).toBe('GROUP_TITLE_INVALID');
  });
});
