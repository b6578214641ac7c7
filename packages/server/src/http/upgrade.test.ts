import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { requestPath } from './upgrade.ts';

describe('requestPath', () => {
  it('never throws, for any request target a client can send', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.webUrl(),
          fc.webPath(),
          fc
            .tuple(fc.constantFrom('http://', 'ws://', '//', 'https://['), fc.string(), fc.integer())
            .map(([scheme, host, port]) => `${scheme}${host}:${port}/v1/ws`),
        ),
        (target) => {
          const path = requestPath(target);
          expect(path === undefined || path.startsWith('/')).toBe(true);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('reads origin-form and absolute-form targets, and refuses ones that do not parse', () => {
    expect(requestPath('/v1/ws?x=1')).toBe('/v1/ws');
    expect(requestPath('http://example.org:8080/v1/ws')).toBe('/v1/ws');
    expect(requestPath(undefined)).toBeUndefined();
    expect(requestPath('http://a:99999/v1/ws')).toBeUndefined();
    expect(requestPath('//a:99999/v1/ws')).toBeUndefined();
    expect(requestPath('http://[::1/v1/ws')).toBeUndefined();
    expect(requestPath('A:')).toBeUndefined();
  });
});
