import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { ed25519 } from '@noble/curves/ed25519.js';

/**
 * The operator's Ed25519 key that signs checkpoints and disclosure packages: 32 bytes, hex, in a
 * file readable only by the server. The embedded default creates one on first start.
 */
export function loadOrCreateSigningKey(path: string): Uint8Array {
  if (existsSync(path)) {
    const hex = readFileSync(path, 'utf8').trim();
    if (!/^[0-9a-f]{64}$/.test(hex)) throw new Error(`${path} does not hold a 32-byte hex Ed25519 key`);
    return Uint8Array.from(Buffer.from(hex, 'hex'));
  }
  const key = ed25519.utils.randomSecretKey();
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${Buffer.from(key).toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
  return key;
}
