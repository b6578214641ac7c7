import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { linkify } from './linkify.ts';

describe('linkify', () => {
  it('finds web addresses and leaves sentence punctuation outside', () => {
    expect(linkify('see https://example.org/a?b=1, then http://x.test.')).toEqual([
      { kind: 'text', text: 'see ' },
      { kind: 'link', text: 'https://example.org/a?b=1', href: 'https://example.org/a?b=1' },
      { kind: 'text', text: ', then ' },
      { kind: 'link', text: 'http://x.test', href: 'http://x.test/' },
      { kind: 'text', text: '.' },
    ]);
  });

  it('never links other schemes', () => {
    for (const text of [
      'javascript:alert(1)',
      'data:text/html,<b>x</b>',
      'file:///etc/passwd',
      'ftp://a.b/c',
    ])
      expect(linkify(text)).toEqual([{ kind: 'text', text }]);
  });

  it('keeps every character, in order, and links only http(s) addresses', () => {
    const piece = fc.oneof(
      fc.string(),
      fc.webUrl(),
      fc.constantFrom('javascript:x', 'https://', 'http://a', ' <b>', '"', '.', ')'),
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 8 }), (pieces) => {
        const text = pieces.join('');
        const segments = linkify(text);
        expect(segments.map((s) => s.text).join('')).toBe(text);
        for (const s of segments) {
          expect(s.text.length).toBeGreaterThan(0);
          if (s.kind === 'link') expect(['http:', 'https:']).toContain(new URL(s.href).protocol);
        }
      }),
    );
  });
});
