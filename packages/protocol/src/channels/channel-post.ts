/**
 * Broadcast channels (issue 16): the wire shapes and the signed form of a post. Channel posts are
 * public, not end-to-end encrypted; each revision of a post is signed by the channel's Ed25519 key
 * (held by the owner's and admins' clients), the server checks the signature before it stores a
 * post, and every subscriber's client checks it again against the key it pinned on subscribe, so
 * the server can neither forge nor alter a post without the subscriber seeing it.
 */
import { ed25519 } from '@noble/curves/ed25519.js';

/** A channel's public name: 5 to 32 of a-z, 0-9 and _ (shown with a leading @). */
export const CHANNEL_NAME_PATTERN = /^[a-z0-9_]{5,32}$/;
export const MAX_CHANNEL_TITLE_LENGTH = 128;
/** The longest description (what a channel says of itself; line breaks allowed). */
export const MAX_CHANNEL_DESCRIPTION_LENGTH = 512;
/** The largest post body (the encoded content) a server takes. */
export const MAX_CHANNEL_POST_BYTES = 32 * 1024;
/** A post id: 32 characters of base64url (24 random bytes), chosen by the posting client. */
export const CHANNEL_POST_ID_PATTERN = /^[A-Za-z0-9_-]{32}$/;
/** The largest page of posts one read returns. */
export const MAX_CHANNEL_PAGE = 500;

export type ChannelVisibility = 'public' | 'private';
export type ChannelRole = 'owner' | 'admin' | 'subscriber';

/** A channel as a subscriber or admin sees it. Subscribers are never listed, only counted. */
export interface ChannelView {
  channelId: string;
  name: string;
  title: string;
  /** What the channel says of itself ('' when nothing). */
  description: string;
  visibility: ChannelVisibility;
  /** The channel's Ed25519 public key, base64 (32 bytes): every post is signed by it. */
  publicKey: string;
  createdAtMs: number;
  lastSeq: number;
  subscriberCount: number;
  /** The caller's relation to the channel (admins and the owner are subscribed too). */
  myRole: ChannelRole | null;
  /** The caller's cursor: posts up to here were read. */
  cursor: number;
  /**
   * The owner's account, shown to the owner and admins only (their clients check that a handed-over
   * channel key came from the owner); absent for subscribers.
   */
  ownerAccountId?: string;
}

/** One post (its newest revision) as stored and served: the subscriber checks `signature`. */
export interface ChannelPostView {
  postId: string;
  seq: number;
  revision: number;
  deleted: boolean;
  /** The encoded content (base64); empty for a deleted post. */
  body: string;
  /** Ed25519 signature over `channelPostSignedBytes`, base64 (64 bytes). */
  signature: string;
  createdAtMs: number;
  editedAtMs: number | null;
  /** Subscriptions whose cursor passed this post (who read it is never recorded). */
  views: number;
}

/** POST /v1/channels */
export interface CreateChannelBody {
  name: string;
  title: string;
  /** Optional, at most MAX_CHANNEL_DESCRIPTION_LENGTH characters. */
  description?: string;
  visibility: ChannelVisibility;
  publicKey: string;
}

/**
 * PATCH /v1/channels/:channelId (the owner and admins): a new title, description, or both, checked as
 * at creation; a field left out stays as it is. The name, visibility and key never change.
 */
export interface EditChannelBody {
  title?: string;
  /** '' clears it. */
  description?: string;
}

/** POST /v1/channels/:channelId/posts (a new post: revision 0), PUT …/posts/:postId (an edit or delete). */
export interface ChannelPostBody {
  postId: string;
  revision: number;
  deleted: boolean;
  body: string;
  signature: string;
}

/** GET /v1/channels/:channelId/posts?after=N */
export interface ChannelPostsPage {
  posts: ChannelPostView[];
  /** The channel's last sequence number when the page was read. */
  lastSeq: number;
}

/** POST /v1/channels/:channelId/invites */
export interface ChannelInviteView {
  inviteId: string;
  /** Shown once, at creation: the server keeps only its hash. */
  token?: string;
  createdAtMs: number;
  revokedAtMs: number | null;
}

/**
 * GET /v1/channels/:channelId/admins (the owner and admins only): who runs the channel, the owner
 * first. People are named by @username and display name, never by phone number.
 */
export interface ChannelAdminView {
  accountId: string;
  role: 'owner' | 'admin';
  username: string | null;
  displayName: string;
  /** When the account was named admin (the owner: when the channel was made). */
  sinceMs: number;
}

/**
 * POST /v1/channels/previews `{ invite }`: what a live invite link leads to, shown before joining
 * (nothing is subscribed or counted). An unknown or revoked token is CHANNEL_INVITE_INVALID.
 */
export interface ChannelInvitePreview {
  channelId: string;
  name: string;
  title: string;
  description: string;
  visibility: ChannelVisibility;
  subscriberCount: number;
  /** The channel's Ed25519 public key, base64: the key joining pins. */
  publicKey: string;
  /** `channelKeyFingerprint` of it, as people compare it (clients compute it again from `publicKey`). */
  keyFingerprint: string;
  /** The caller's relation to the channel already (null: not in it yet). */
  myRole: ChannelRole | null;
}

/** What a signature covers: the channel, the post, its revision, whether it is a deletion, the body. */
export interface ChannelPostFields {
  channelId: string;
  postId: string;
  revision: number;
  deleted: boolean;
  body: Uint8Array;
}

const DOMAIN = 'courier/channel-post/v1';
const encoder = new TextEncoder();

function lengthPrefixed(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + bytes.length);
  new DataView(out.buffer).setUint32(0, bytes.length);
  out.set(bytes, 4);
  return out;
}

/**
 * The bytes a post's signature covers: a domain label, then each field length-prefixed, so that no
 * two different posts (or a post of another channel, or another revision) have the same bytes.
 */
export function channelPostSignedBytes(fields: ChannelPostFields): Uint8Array {
  if (!Number.isSafeInteger(fields.revision) || fields.revision < 0 || fields.revision > 0xffff_ffff)
    throw new RangeError('revision out of range');
  const parts = [
    lengthPrefixed(encoder.encode(DOMAIN)),
    lengthPrefixed(encoder.encode(fields.channelId)),
    lengthPrefixed(encoder.encode(fields.postId)),
    lengthPrefixed(
      Uint8Array.of(fields.revision >>> 24, fields.revision >>> 16, fields.revision >>> 8, fields.revision),
    ),
    lengthPrefixed(Uint8Array.of(fields.deleted ? 1 : 0)),
    lengthPrefixed(fields.body),
  ];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** A new channel key pair (the secret key stays on the owner's and admins' devices). */
export function generateChannelKey(): { secretKey: Uint8Array; publicKey: Uint8Array } {
  const { secretKey, publicKey } = ed25519.keygen();
  return { secretKey, publicKey };
}

export function channelPublicKeyOf(secretKey: Uint8Array): Uint8Array {
  return ed25519.getPublicKey(secretKey);
}

export function signChannelPost(secretKey: Uint8Array, fields: ChannelPostFields): Uint8Array {
  return ed25519.sign(channelPostSignedBytes(fields), secretKey);
}

/** True only for a valid signature by `publicKey` over exactly these fields; never throws. */
export function verifyChannelPost(
  publicKey: Uint8Array,
  fields: ChannelPostFields,
  signature: Uint8Array,
): boolean {
  if (publicKey.length !== 32 || signature.length !== 64) return false;
  try {
    return ed25519.verify(signature, channelPostSignedBytes(fields), publicKey);
  } catch {
    return false;
  }
}

/** What people compare to check a channel key: its first 16 bytes in hex, in groups of 4. */
export function channelKeyFingerprint(publicKey: Uint8Array): string {
  let s = '';
  for (const b of publicKey) s += b.toString(16).padStart(2, '0');
  return (s.slice(0, 32).match(/.{4}/g) ?? []).join(' ');
}
