import { createHash, timingSafeEqual } from 'node:crypto';

const base64url = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64url');

/** A session token: 256 random bits. Only its hash is stored. */
export function newToken(random: (n: number) => Uint8Array): string {
  return base64url(random(32));
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

/** A uniformly random decimal code (rejection sampling, no modulo bias). */
export function newCode(random: (n: number) => Uint8Array, length: number): string {
  let code = '';
  while (code.length < length) {
    for (const byte of random(length * 2)) {
      if (byte < 250 && code.length < length) code += String(byte % 10);
    }
  }
  return code;
}

export function hashCode(phone: string, code: string): string {
  return createHash('sha256').update(`${phone}:${code}`).digest('base64url');
}

export function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
