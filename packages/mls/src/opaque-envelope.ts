import {
  contentTypes,
  encode,
  mlsMessageDecoder,
  mlsMessageEncoder,
  protocolVersions,
  wireformats,
} from 'ts-mls';
import { MlsError } from './mls-error.ts';

/**
 * FOR DELIVERY TESTS AND LOAD TESTS ONLY. Wraps bytes that are not real MLS ciphertext in the shape of
 * an MLS PrivateMessage of application data for the group, so that tests of the delivery service
 * (ordering, acks, back-pressure, faults, throughput) can send traceable bodies the server accepts:
 * the server reads only the public header, and cannot tell these from real ciphertext. No client
 * could decrypt them; real messages come from `encryptMessage`.
 */
export function opaqueApplicationMessage(groupId: string, body: Uint8Array, epoch = 0n): Uint8Array {
  return encode(mlsMessageEncoder, {
    version: protocolVersions.mls10,
    wireformat: wireformats.mls_private_message,
    privateMessage: {
      groupId: new TextEncoder().encode(groupId),
      epoch,
      contentType: contentTypes.application,
      authenticatedData: new Uint8Array(),
      encryptedSenderData: new Uint8Array(16),
      ciphertext: body,
    },
  });
}

/** The body of an envelope made by `opaqueApplicationMessage` (MLS_MALFORMED otherwise). */
export function opaqueBody(bytes: Uint8Array): Uint8Array {
  const decoded = mlsMessageDecoder(bytes, 0);
  if (decoded === undefined || decoded[0].wireformat !== wireformats.mls_private_message)
    throw new MlsError('MLS_MALFORMED', 'not an opaque application message');
  return decoded[0].privateMessage.ciphertext;
}

/** Bytes an envelope adds around a body of `bodyLength` bytes for this group id. */
export function opaqueOverhead(groupId: string, bodyLength: number): number {
  return opaqueApplicationMessage(groupId, new Uint8Array(bodyLength)).length - bodyLength;
}
