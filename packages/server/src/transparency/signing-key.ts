import { existsSync, readFileSync } from 'node:fs';
import { CourierError } from '@courier/protocol';
import { ed25519 } from '@noble/curves/ed25519.js';
import { restrictFile, writePrivateFile } from '../files/private-files.ts';

/**
 * The operator's Ed25519 key that signs checkpoints and disclosure packages: 32 bytes, hex, in a
 * file readable only by the server. The embedded default creates one on first start.
 */
export function loadOrCreateSigningKey(path: string): Uint8Array {
  if (existsSync(path)) {
    restrictFile(path);
    return parseKey(readFileSync(path, 'utf8'), path);
  }
  const key = ed25519.utils.randomSecretKey();
  writePrivateFile(path, `${Buffer.from(key).toString('hex')}\n`, 'wx');
  return key;
}

/** Where a server key is: a file, or (winning over it) an environment variable holding the hex. */
export interface ServerKeyReference {
  file: string;
  env?: string | undefined;
}

/** Reads a server key from the variable it names, else from its file (created if missing). */
export function loadServerKey(
  reference: ServerKeyReference,
  env: Readonly<Record<string, string | undefined>>,
): Uint8Array {
  if (reference.env === undefined) return loadOrCreateSigningKey(reference.file);
  const value = env[reference.env];
  if (value === undefined || value.trim() === '') {
    throw new CourierError('SERVER_KEY_INVALID', {
      message: `environment variable ${reference.env} (a server key) is not set`,
    });
  }
  return parseKey(value, `environment variable ${reference.env}`);
}

function parseKey(text: string, where: string): Uint8Array {
  const hex = text.trim();
  if (!/^[0-9a-f]{64}$/.test(hex)) {
    throw new CourierError('SERVER_KEY_INVALID', {
      message: `${where} does not hold a 32-byte hex Ed25519 key`,
    });
  }
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}
