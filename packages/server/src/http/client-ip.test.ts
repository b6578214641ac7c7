import type { IncomingMessage } from 'node:http';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { clientIpResolver } from './client-ip.ts';

const request = (remoteAddress: string, xff?: string) =>
  ({
    socket: { remoteAddress },
    headers: xff === undefined ? {} : { 'x-forwarded-for': xff },
  }) as unknown as IncomingMessage;

describe('client address', () => {
  it('ignores X-Forwarded-For from an untrusted peer', () => {
    const ip = clientIpResolver(['10.0.0.1']);
    expect(ip(request('203.0.113.9', '198.51.100.7'))).toBe('203.0.113.9');
  });

  it('takes the rightmost untrusted hop behind trusted proxies', () => {
    const ip = clientIpResolver(['10.0.0.1', '10.0.0.2']);
    expect(ip(request('::ffff:10.0.0.1', '1.1.1.1, 198.51.100.7, 10.0.0.2'))).toBe('198.51.100.7');
  });

  it('skips garbage in the header and falls back to the proxy itself', () => {
    const ip = clientIpResolver(['10.0.0.1']);
    expect(ip(request('10.0.0.1', 'not-an-ip, ,'))).toBe('10.0.0.1');
  });

  it('never returns a spoofed address when the peer is not a proxy, whatever the header says', () => {
    const ip = clientIpResolver(['10.0.0.1']);
    fc.assert(
      fc.property(fc.string(), (xff) => {
        expect(ip(request('203.0.113.9', xff))).toBe('203.0.113.9');
      }),
    );
  });
});
