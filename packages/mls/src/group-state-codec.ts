import { type ClientState, clientStateDecoder, clientStateEncoder, encode } from 'ts-mls';
import { MlsError } from './mls-error.ts';
import { type MlsGroup, wrapGroup } from './mls-group.ts';

/**
 * Format of saved group state: one version byte, then ts-mls's ClientState encoding. Version 1 is the
 * encoding of ts-mls 2.0.0-rc.10 as patched here; a library change to that encoding gets a new version
 * and a migration in `importGroupState`.
 */
export const GROUP_STATE_VERSION = 1;

/** Serializes a group for the device's store. The bytes hold private keys: store them as secrets. */
export function exportGroupState(group: MlsGroup): Uint8Array {
  const body = encode(clientStateEncoder, group.state);
  const out = new Uint8Array(body.length + 1);
  out[0] = GROUP_STATE_VERSION;
  out.set(body, 1);
  return out;
}

/** Restores a group saved by `exportGroupState` (MLS_STATE_VERSION or MLS_MALFORMED otherwise). */
export function importGroupState(bytes: Uint8Array): MlsGroup {
  if (bytes.length === 0) throw new MlsError('MLS_MALFORMED', 'empty group state');
  if (bytes[0] !== GROUP_STATE_VERSION) {
    throw new MlsError('MLS_STATE_VERSION', `group state version ${bytes[0]} is not supported`);
  }
  const body = bytes.subarray(1);
  let decoded: [ClientState, number] | undefined;
  try {
    decoded = clientStateDecoder(body, 0);
  } catch (cause) {
    throw new MlsError('MLS_MALFORMED', 'the group state could not be decoded', { cause });
  }
  if (decoded === undefined || decoded[1] !== body.length) {
    throw new MlsError('MLS_MALFORMED', 'the group state could not be decoded');
  }
  return wrapGroup(decoded[0]);
}
