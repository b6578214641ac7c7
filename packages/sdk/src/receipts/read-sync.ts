import { fromBase64, toBase64 } from '@courier/protocol';

/**
 * The person's read position where no read receipt goes into the chat (more devices than
 * `receiptMaxDevices`, or the person turned read receipts off): it goes to the person's own other devices only, each through its device mailbox, never into the chat
 * (nobody else learns when they read). Sealed with AES-256-GCM under a key derived from the chat's MLS
 * group at `epoch` (MLS-Exporter with {@link READ_SYNC_LABEL} and the chat id as context), so the server
 * cannot read it; the mailbox takes it only from the account itself, and the sending device signs it
 * with its MLS signature key (checked against its leaf in the receiver's tree: another member, who also
 * has the exporter key, cannot forge one even with the server's help). The exporter, not an MLS
 * application message, so that the sender's message ratchet does not move for messages the other
 * members never see (they would have to skip those generations, at most 200 in a row).
 *
 * On the wire (a `device` mailbox item): JSON `{v: 1, type: "read_sync", groupId, epoch, nonce, sealed, sig}`
 * (nonce 12 bytes, sealed bytes and the 64-byte signature in base64); sealed is the JSON `{upToSeq}`, with
 * the associated data `courier-read-sync-v1`, the chat id, the epoch and the sending device id; sig signs
 * {@link signedPart}.
 */
export const READ_SYNC_LABEL = 'courier read sync v1';
export const READ_SYNC_KEY_BYTES = 32;

/** The envelope of a read position, as parsed (not opened yet). */
export interface ReadSyncEnvelope {
  groupId: string;
  epoch: number;
  nonce: Uint8Array;
  sealed: Uint8Array;
  sig: Uint8Array;
}

/** Signs bytes with the sending device's MLS signature key (Ed25519: 64-byte signatures). */
export type ReadSyncSigner = (bytes: Uint8Array) => Promise<Uint8Array>;
const SIG_BYTES = 64;

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const NONCE_BYTES = 12;
/** A sealed `{upToSeq}` is far below this; anything longer is not one. */
const MAX_SEALED_BYTES = 256;
const MAX_GROUP_ID = 200;

/** What the sending device signs: everything in the envelope, and who it is. */
export function signedPart(
  envelope: Omit<ReadSyncEnvelope, 'sig'>,
  senderDeviceId: string,
): Uint8Array<ArrayBuffer> {
  return new Uint8Array(
    encoder.encode(
      JSON.stringify([
        'courier-read-sync-v1-sig',
        envelope.groupId,
        envelope.epoch,
        toBase64(envelope.nonce),
        toBase64(envelope.sealed),
        senderDeviceId,
      ]),
    ),
  );
}

function associatedData(groupId: string, epoch: number, senderDeviceId: string): Uint8Array<ArrayBuffer> {
  return new Uint8Array(
    encoder.encode(JSON.stringify(['courier-read-sync-v1', groupId, epoch, senderDeviceId])),
  );
}

async function aesKey(key: Uint8Array, use: 'encrypt' | 'decrypt'): Promise<CryptoKey> {
  return globalThis.crypto.subtle.importKey('raw', new Uint8Array(key), 'AES-GCM', false, [use]);
}

/** Seals a read position for the person's other devices (the payload of a `device` mailbox item). */
export async function sealReadSync(
  key: Uint8Array,
  sync: { groupId: string; epoch: number; upToSeq: number },
  senderDeviceId: string,
  sign: ReadSyncSigner,
): Promise<Uint8Array> {
  const nonce = globalThis.crypto.getRandomValues(new Uint8Array(NONCE_BYTES));
  const sealed = new Uint8Array(
    await globalThis.crypto.subtle.encrypt(
      {
        name: 'AES-GCM',
        iv: nonce,
        additionalData: associatedData(sync.groupId, sync.epoch, senderDeviceId),
      },
      await aesKey(key, 'encrypt'),
      encoder.encode(JSON.stringify({ upToSeq: sync.upToSeq })),
    ),
  );
  const sig = await sign(
    signedPart({ groupId: sync.groupId, epoch: sync.epoch, nonce, sealed }, senderDeviceId),
  );
  return encoder.encode(
    JSON.stringify({
      v: 1,
      type: 'read_sync',
      groupId: sync.groupId,
      epoch: sync.epoch,
      nonce: toBase64(nonce),
      sealed: toBase64(sealed),
      sig: toBase64(sig),
    }),
  );
}

/**
 * The envelope in a mailbox item's payload, or undefined when the payload is not a read position of
 * this version (other kinds of device items, a newer version, malformed bytes: never a throw).
 */
export function parseReadSync(payload: Uint8Array): ReadSyncEnvelope | undefined {
  if (payload.byteLength > 4 * MAX_SEALED_BYTES + 2 * MAX_GROUP_ID) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(payload));
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (v.v !== 1 || v.type !== 'read_sync') return undefined;
  if (typeof v.groupId !== 'string' || v.groupId.length === 0 || v.groupId.length > MAX_GROUP_ID)
    return undefined;
  if (typeof v.epoch !== 'number' || !Number.isSafeInteger(v.epoch) || v.epoch < 0) return undefined;
  if (typeof v.nonce !== 'string' || typeof v.sealed !== 'string' || typeof v.sig !== 'string')
    return undefined;
  const nonce = fromBase64(v.nonce);
  const sealed = fromBase64(v.sealed);
  const sig = fromBase64(v.sig);
  if (nonce?.byteLength !== NONCE_BYTES || !sealed || sealed.byteLength < 16) return undefined;
  if (sealed.byteLength > MAX_SEALED_BYTES || sig?.byteLength !== SIG_BYTES) return undefined;
  return { groupId: v.groupId, epoch: v.epoch, nonce, sealed, sig };
}

/**
 * The read position an envelope holds, or undefined when it does not open under this key (another
 * epoch's key, another sender than the one named, altered bytes) or holds no valid position.
 */
export async function openReadSync(
  key: Uint8Array,
  envelope: ReadSyncEnvelope,
  senderDeviceId: string,
): Promise<number | undefined> {
  let plain: Uint8Array;
  try {
    plain = new Uint8Array(
      await globalThis.crypto.subtle.decrypt(
        {
          name: 'AES-GCM',
          iv: new Uint8Array(envelope.nonce),
          additionalData: associatedData(envelope.groupId, envelope.epoch, senderDeviceId),
        },
        await aesKey(key, 'decrypt'),
        new Uint8Array(envelope.sealed),
      ),
    );
  } catch {
    return undefined;
  }
  try {
    const { upToSeq } = JSON.parse(decoder.decode(plain)) as { upToSeq?: unknown };
    return typeof upToSeq === 'number' && Number.isSafeInteger(upToSeq) && upToSeq >= 1 ? upToSeq : undefined;
  } catch {
    return undefined;
  }
}

/** What a person sees where receipts would show (the same sentence in the web app and the CLI). */
export function receiptsOffText(maxDevices: number): string {
  return `Receipts are off in groups of more than ${maxDevices} devices`;
}
