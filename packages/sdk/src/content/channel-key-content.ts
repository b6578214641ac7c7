import {
  CHANNEL_NAME_PATTERN,
  CourierError,
  channelPublicKeyOf,
  decodeBase64,
  encodeBase64,
  isId,
} from '@courier/protocol';
import type { ContentType } from './content-type.ts';

/**
 * A channel's secret signing key, handed by the channel's owner to an admin's devices (and to the
 * owner's own other devices) inside an end-to-end-encrypted chat (issue 16): the server never holds
 * it. A control message: never shown as a message; the receiving client checks it against the
 * server's channel info (`ChannelClient.receiveKey`) before it signs anything with it.
 */
export interface ChannelKeyContent {
  v: 1;
  type: 'channel-key';
  channelId: string;
  /** The channel's @name when sent (to say which channel; the id is what is checked). */
  name: string;
  /** The Ed25519 public key, base64 (32 bytes): the one subscribers pin. */
  publicKey: string;
  /** The Ed25519 secret key, base64 (32 bytes). */
  secretKey: string;
  sentAtMs: number;
}

/** The reason a channel-key content is out of shape, or undefined when it is well formed. */
function problemOf(value: Record<string, unknown>): string | undefined {
  const { channelId, name, publicKey, secretKey, sentAtMs } = value;
  if (!isId('channel', channelId)) return 'The channel id is malformed.';
  if (typeof name !== 'string' || !CHANNEL_NAME_PATTERN.test(name)) return 'The channel name is malformed.';
  if (typeof publicKey !== 'string' || decodeBase64(publicKey)?.length !== 32)
    return 'The channel public key is malformed.';
  const secret = typeof secretKey === 'string' ? decodeBase64(secretKey) : undefined;
  if (secret?.length !== 32) return 'The channel secret key is malformed.';
  // A key pair that does not belong together is refused here, before anyone looks further.
  if (encodeBase64(channelPublicKeyOf(secret)) !== publicKey)
    return 'The channel secret key does not match its public key.';
  if (typeof sentAtMs !== 'number' || !Number.isSafeInteger(sentAtMs)) return 'The sending time is missing.';
  return undefined;
}

export const channelKeyContent: ContentType<ChannelKeyContent> = {
  type: 'channel-key',
  shown: false,
  parse(value) {
    const problem = problemOf(value);
    if (problem) return problem;
    const { channelId, name, publicKey, secretKey, sentAtMs } = value as unknown as ChannelKeyContent;
    return { v: 1, type: 'channel-key', channelId, name, publicKey, secretKey, sentAtMs };
  },
  check(content) {
    const problem = problemOf(content as unknown as Record<string, unknown>);
    if (problem) throw new CourierError('REQ_INVALID', { message: problem });
  },
};
