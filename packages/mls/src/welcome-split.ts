import {
  encode,
  makeKeyPackageRef,
  mlsMessageDecoder,
  mlsMessageEncoder,
  protocolVersions,
  wireformats,
} from 'ts-mls';
import { DEFAULT_CIPHERSUITE, loadCiphersuite } from './ciphersuite.ts';
import { inspectHandshake } from './inspect-handshake.ts';
import { MlsError } from './mls-error.ts';

const hex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');

/**
 * The KeyPackageRef (hex) of each key package a commit adds, in proposal order: what a Welcome
 * names each new member by. Secret-free, for the delivery service.
 */
export async function addedKeyPackageRefs(commit: Uint8Array): Promise<string[]> {
  inspectHandshake(commit); // throws MlsError for anything that is not a well-formed handshake
  const decoded = mlsMessageDecoder(commit, 0);
  if (decoded?.[0].wireformat !== wireformats.mls_public_message)
    throw new MlsError('MLS_NOT_PUBLIC_MESSAGE', 'a commit must be a PublicMessage');
  const content = decoded[0].publicMessage.content;
  if (!('commit' in content)) return [];
  const suite = await loadCiphersuite(DEFAULT_CIPHERSUITE);
  const refs: string[] = [];
  for (const item of content.commit.proposals) {
    if ('proposal' in item && 'add' in item.proposal)
      refs.push(hex(await makeKeyPackageRef(item.proposal.add.keyPackage, suite.hash)));
  }
  return refs;
}

/**
 * Splits a Welcome (MLSMessage bytes) into one Welcome per new member, each holding only that
 * member's encrypted group secrets and the shared encrypted GroupInfo (RFC 9420 §12.4.3.1 lets a
 * joiner find its entry among any number). Each device's mailbox then keeps a few hundred bytes
 * instead of the whole Welcome of a 500-member add. Returns a map from KeyPackageRef (hex) to the
 * Welcome for it; throws MlsError MLS_MALFORMED when the bytes are not a Welcome.
 */
export function splitWelcome(bytes: Uint8Array): Map<string, Uint8Array> {
  let decoded: ReturnType<typeof mlsMessageDecoder>;
  try {
    decoded = mlsMessageDecoder(bytes, 0);
  } catch (cause) {
    throw new MlsError('MLS_MALFORMED', 'the Welcome could not be decoded', { cause });
  }
  if (
    decoded === undefined ||
    decoded[1] !== bytes.length ||
    decoded[0].wireformat !== wireformats.mls_welcome
  )
    throw new MlsError('MLS_MALFORMED', 'expected an MLSMessage holding a Welcome');
  const welcome = decoded[0].welcome;
  const split = new Map<string, Uint8Array>();
  for (const secret of welcome.secrets) {
    split.set(
      hex(secret.newMember),
      encode(mlsMessageEncoder, {
        version: protocolVersions.mls10,
        wireformat: wireformats.mls_welcome,
        welcome: { ...welcome, secrets: [secret] },
      }),
    );
  }
  return split;
}
