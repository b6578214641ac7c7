/**
 * The one error catalog. Every failure a client can see has a code here (`AREA_WHAT`), an HTTP
 * status and a sentence. `docs/errors.md` is generated from this table and a test keeps it in step.
 */
export const errorCatalog = {
  PROTO_MALFORMED_FRAME: { status: 400, message: 'The frame could not be decoded.' },
  PROTO_UNKNOWN_FRAME: { status: 400, message: 'The frame has no known body.' },
  PROTO_FRAME_TOO_LARGE: { status: 413, message: 'The frame is larger than the maximum frame size.' },
  PROTO_PAYLOAD_TOO_LARGE: { status: 413, message: 'The payload is larger than the server accepts.' },
  PROTO_HELLO_REQUIRED: { status: 400, message: 'The first frame of a connection must be a hello.' },
  PROTO_UNSUPPORTED_VERSION: {
    status: 426,
    message: 'The client speaks a protocol version the server does not.',
  },
  PROTO_HELLO_TIMEOUT: { status: 408, message: 'No hello arrived in time.' },
  PROTO_TEXT_FRAME: { status: 400, message: 'Only binary frames are accepted.' },
  PROTO_TOO_MUCH_BEFORE_HELLO: {
    status: 413,
    message: 'More bytes arrived before the hello was accepted than the server takes from a stranger.',
  },
  AUTH_REQUIRED: { status: 401, message: 'This call needs a session token.' },
  AUTH_INVALID_TOKEN: { status: 401, message: 'The session token is unknown, revoked or malformed.' },
  AUTH_INVALID_PHONE: { status: 400, message: 'The phone number is not a valid international number.' },
  AUTH_CODE_INVALID: { status: 401, message: 'The verification code is wrong.' },
  AUTH_CODE_EXPIRED: {
    status: 401,
    message: 'There is no valid verification code for this number; request a new one.',
  },
  AUTH_CODE_ATTEMPTS_EXCEEDED: { status: 429, message: 'Too many wrong codes; request a new one.' },
  AUTH_RATE_LIMITED: { status: 429, message: 'Too many requests; try again later.' },
  AUTH_SMS_FAILED: { status: 502, message: 'The verification code could not be sent.' },
  AUTH_CONNECTION_REPLACED: {
    status: 409,
    message: 'The same device connected again; this older connection is closed.',
  },
  AUTH_SESSION_REVOKED: { status: 401, message: 'This device was signed out.' },
  AUTH_TOO_MANY_SOCKETS: {
    status: 429,
    message: 'This device or account has too many open connections to this server; close one or retry later.',
  },
  ACCOUNT_NOT_FOUND: { status: 404, message: 'No such user.' },
  ACCOUNT_USERNAME_INVALID: { status: 400, message: 'A username has 5 to 32 characters: a-z, 0-9 and _.' },
  ACCOUNT_USERNAME_TAKEN: { status: 409, message: 'That username is taken.' },
  ACCOUNT_PROFILE_INVALID: {
    status: 400,
    message: 'The display name must have 1 to 64 characters, and no control characters.',
  },
  ACCOUNT_DELETE_NOT_CONFIRMED: {
    status: 400,
    message: 'To delete the account, type its phone number again.',
  },
  ACCOUNT_SUSPENDED: {
    status: 403,
    message:
      'This account is suspended, by the decision of two staff members; the details say how to appeal. Its sessions have ended, and it cannot sign in, connect or send.',
  },
  REPORT_INVALID: {
    status: 400,
    message:
      'A report names a chat you are in, forwards 1 to 50 messages of it (sender, time, text) and gives a reason: spam, abuse, illegal or other.',
  },
  REPORT_RATE_LIMITED: { status: 429, message: 'Too many reports from this account; try again later.' },
  REPORT_NOT_FOUND: { status: 404, message: 'No such report.' },
  MODERATION_SAME_STAFF: {
    status: 409,
    message: 'A suspension (or lifting one) needs a second, different staff member to approve the proposal.',
  },
  MODERATION_STATE: {
    status: 409,
    message: "That step is not possible in the account's current suspension state.",
  },
  PRIVACY_POLICY_NOT_ACCEPTED: {
    status: 403,
    message: 'Accept the current privacy policy (see /privacy) to continue.',
  },
  PRIVACY_POLICY_UNKNOWN_VERSION: { status: 400, message: 'That is not the current privacy-policy version.' },
  EXPORT_NOT_FOUND: { status: 404, message: 'No such data export of this account.' },
  EXPORT_NOT_READY: { status: 409, message: 'The data export is not finished yet; poll its status.' },
  EXPORT_EXPIRED: { status: 410, message: 'The data export archive was deleted after its retention window.' },
  EXPORT_FAILED: { status: 500, message: 'The data export failed; start a new one.' },
  DEVICE_NOT_FOUND: { status: 404, message: 'No such device on this account.' },
  GROUP_NOT_FOUND: { status: 404, message: 'No such chat, or you are not in it.' },
  GROUP_NOT_MEMBER: { status: 403, message: 'You are not a member of this chat.' },
  GROUP_NOT_ADMIN: { status: 403, message: 'Only an admin of this group can do that.' },
  GROUP_NOT_OWNER: { status: 403, message: 'Only the owner of this group can do that.' },
  GROUP_MEMBER_CAP_EXCEEDED: { status: 409, message: 'The group would exceed its member limit.' },
  GROUP_DIRECT_IMMUTABLE: { status: 409, message: 'A direct chat always has exactly its two people.' },
  GROUP_TITLE_INVALID: {
    status: 400,
    message: 'A group title must have 1 to 128 characters, and no control characters.',
  },
  GROUP_SELF_DIRECT: { status: 400, message: 'A direct chat needs another person.' },
  CONSENT_REQUEST_NOT_FOUND: {
    status: 404,
    message: 'There is no message request or invitation for this chat waiting for you.',
  },
  CONSENT_SELF_BLOCK: { status: 400, message: 'You cannot block yourself.' },
  CONSENT_RATE_LIMITED: {
    status: 429,
    message:
      'Too many new chats with people who are not your contacts, or too many invitations, for now; try again later.',
  },
  LEGAL_REQUEST_INVALID: { status: 400, message: 'The legal request does not match the documented format.' },
  LEGAL_POLICY_INVALID: {
    status: 400,
    message:
      'The disclosure policy does not match the documented format or breaks a fixed rule (only phone_number and ip_addresses are disclosable; at least two approvers).',
  },
  LEGAL_CASE_NOT_FOUND: { status: 404, message: 'No such legal case.' },
  LEGAL_CASE_STATE: { status: 409, message: "That step is not possible in the case's current state." },
  LEGAL_ALREADY_APPROVED: {
    status: 409,
    message: 'This staff member already approved the case; a second, different approver is needed.',
  },
  LEGAL_NOT_AUTHORIZED: { status: 403, message: 'Your role does not allow this step.' },
  DESK_LOGIN_FAILED: { status: 401, message: 'Wrong username, password or one-time code.' },
  DESK_LOGIN_THROTTLED: {
    status: 429,
    message: 'Too many failed logins for this username or from this address; try again later.',
  },
  DESK_SESSION_INVALID: { status: 401, message: 'The desk session is unknown or expired; log in again.' },
  DESK_CREDENTIALS_WRONG: { status: 403, message: 'Wrong current password or one-time code.' },
  DESK_TOTP_CONFIRM_FAILED: {
    status: 403,
    message: 'That code is not from the new secret; scan the new QR code and type the code it shows.',
  },
  DESK_TOTP_CHANGE_NOT_STARTED: {
    status: 409,
    message: 'No new one-time code secret is waiting for confirmation; start the change again.',
  },
  DESK_PASSWORD_TOO_SHORT: { status: 400, message: 'A desk password has at least 12 characters.' },
  MSG_CLIENT_ID_INVALID: {
    status: 400,
    message: 'A client message id has 1 to 64 characters: A-Z, a-z, 0-9, - and _.',
  },
  MSG_STALE_EPOCH: {
    status: 409,
    message: 'Another commit was accepted for this epoch first; catch up and retry.',
  },
  MSG_SLOW_CONSUMER: { status: 429, message: 'The connection could not keep up; reconnect to resume.' },
  MSG_MAILBOX_FULL: {
    status: 429,
    message: "The device's mailbox holds as much as it may until the device fetches it; try again later.",
  },
  MSG_NOT_A_CONTACT: {
    status: 403,
    message:
      "You share no chat with that device's owner; a device takes items only from its own account and its chats' members.",
  },
  MSG_UNKNOWN_MESSAGE: {
    status: 404,
    message: 'No such message in this chat on this device (its number or id as history shows it).',
  },
  MSG_NOT_SENDER: {
    status: 403,
    message: 'Only the person who sent a message may edit it or delete it for everyone.',
  },
  MSG_NOT_ACTIONABLE: {
    status: 409,
    message: 'That message cannot take this action (it was deleted, or it is not a text).',
  },
  MLS_MALFORMED: { status: 400, message: 'The MLS message could not be decoded.' },
  MLS_NOT_PUBLIC_MESSAGE: {
    status: 400,
    message: 'Commits and proposals must travel as MLS PublicMessage so the delivery service can check them.',
  },
  MLS_UNEXPECTED_MESSAGE: { status: 400, message: 'That kind of MLS message is not accepted here.' },
  MLS_MISSING_UPDATE_PATH: {
    status: 400,
    message: 'The commit lacks the UpdatePath RFC 9420 §12.4 requires for its proposals.',
  },
  MLS_WRONG_GROUP: { status: 400, message: 'The MLS message belongs to another group.' },
  MLS_WRONG_EPOCH: { status: 409, message: 'The commit is for an epoch the group has not reached.' },
  MLS_NOT_MEMBER: { status: 403, message: 'The sending device is not a member of the MLS group.' },
  MLS_UNSUPPORTED_PROPOSAL: {
    status: 400,
    message: 'The delivery service accepts commits of Add, Remove and Update proposals by value only.',
  },
  MLS_ROSTER_MISMATCH: {
    status: 409,
    message: 'The commit adds or removes devices the chat roster does not call for.',
  },
  MLS_TREE_MISMATCH: {
    status: 400,
    message: 'The ratchet tree does not match the members the delivery service expects.',
  },
  MLS_WELCOME_REQUIRED: {
    status: 400,
    message: 'A commit that adds devices needs its Welcome and the new ratchet tree.',
  },
  MLS_CREDENTIAL_REQUIRED: {
    status: 409,
    message: 'This device has no MLS credential yet; register its signature key first.',
  },
  MLS_CREDENTIAL_EXISTS: {
    status: 409,
    message: 'This device already has a different MLS signature key; a new key needs a new device.',
  },
  MLS_KEY_PACKAGE_INVALID: {
    status: 400,
    message: "The key package is malformed or not for this device's credential and ciphersuite.",
  },
  MLS_CLAIM_RATE_LIMITED: {
    status: 429,
    message: 'Too many key-package claims from this account; try again later.',
  },
  MLS_TREE_NOT_FOUND: { status: 404, message: 'No ratchet tree is kept for that epoch of the group.' },
  MLS_CERTIFICATE_INVALID: {
    status: 502,
    message: "A member's credential does not match a device certificate from the server.",
  },
  MLS_GROUP_NOT_READY: {
    status: 409,
    message: 'This device has not joined the chat’s encryption group yet; it will once a member adds it.',
  },
  MLS_DECRYPT_FAILED: {
    status: 400,
    message: 'A message could not be decrypted; it was recorded and skipped.',
  },
  MLS_REJECTED: {
    status: 400,
    message:
      'The MLS handshake message was rejected (bad signature, membership or confirmation tag, or an invalid proposal).',
  },
  MLS_INVALID_IDENTITY: {
    status: 400,
    message: 'The MLS credential identity is not <accountId>:<deviceId>.',
  },
  MLS_INVALID_ARGUMENT: { status: 400, message: 'The MLS operation was given an argument it cannot use.' },
  MLS_NO_MATCHING_KEY_PACKAGE: {
    status: 400,
    message: "The Welcome is for none of this device's key packages.",
  },
  MLS_WELCOME_REJECTED: {
    status: 400,
    message:
      'The Welcome, its group info or its ratchet tree failed validation; the group cannot be joined from it.',
  },
  MLS_UNSUPPORTED_CIPHERSUITE: { status: 400, message: 'The MLS ciphersuite is not supported here.' },
  MLS_STATE_VERSION: {
    status: 500,
    message: 'Saved MLS group state is in a format this version cannot read.',
  },
  MLS_OPERATION_FAILED: { status: 500, message: 'The MLS library could not complete the operation.' },
  ENDPOINTS_MALFORMED: { status: 400, message: 'The endpoint list or entry does not match its format.' },
  ENDPOINTS_SIGNATURE_INVALID: {
    status: 400,
    message: 'The endpoint list is not signed by a pinned endpoint-list key; the last good list stays.',
  },
  ENDPOINTS_EXPIRED: { status: 400, message: 'The endpoint list has expired (a day of clock skew allowed).' },
  ENDPOINTS_SERIAL_ROLLBACK: {
    status: 409,
    message: 'The endpoint list has a lower serial than the one held; the held list stays.',
  },
  ENDPOINTS_LINK_INVALID: { status: 400, message: 'The endpoint link is not a courier://endpoint link.' },
  ENDPOINTS_NOT_CONFIGURED: { status: 404, message: 'This server publishes no endpoint list.' },
  MERKLE_BAD_SIZE: {
    status: 400,
    message: 'A Merkle leaf index or tree size is not a whole number in range for the log.',
  },
  MERKLE_BAD_HASH: { status: 400, message: 'A Merkle leaf hash, proof hash or root is not 32 bytes.' },
  MERKLE_BAD_PROOF: {
    status: 400,
    message: 'The Merkle proof has the wrong number of hashes for the sizes it claims to cover.',
  },
  MERKLE_ROOT_MISMATCH: { status: 400, message: 'The Merkle proof leads to a different root.' },
  CHECKPOINT_MALFORMED: {
    status: 400,
    message: 'The text does not follow the signed-note, verifier-key or checkpoint format.',
  },
  CHECKPOINT_UNKNOWN_KEY: { status: 400, message: 'No signature in the note is by the expected key.' },
  CHECKPOINT_BAD_SIGNATURE: { status: 400, message: 'A signature by the expected key does not verify.' },
  CHECKPOINT_WRONG_ORIGIN: {
    status: 400,
    message: 'The checkpoint is of another log: its origin line is not the one expected.',
  },
  MEDIA_TOO_LARGE: { status: 413, message: 'The file is larger than this server accepts.' },
  MEDIA_QUOTA_EXCEEDED: {
    status: 413,
    message:
      'This upload would take the account past its media storage quota; delete or wait for older files to expire.',
  },
  MEDIA_RATE_LIMITED: { status: 429, message: 'Too many uploads started; try again later.' },
  MEDIA_LENGTH_INVALID: {
    status: 400,
    message:
      'An upload states its length up front, and that length must be one the chunked ciphertext format can have.',
  },
  MEDIA_UPLOAD_NOT_FOUND: { status: 404, message: 'No such upload of this account (it may have expired).' },
  MEDIA_OFFSET_MISMATCH: {
    status: 409,
    message:
      'The upload offset does not match what the server holds; ask for the offset (HEAD) and resume from there.',
  },
  MEDIA_NOT_FOUND: { status: 404, message: 'No such file in a chat you are in.' },
  MEDIA_RANGE_INVALID: { status: 416, message: 'The byte range is not one this file has.' },
  MEDIA_INTEGRITY_FAILED: {
    status: 422,
    message: 'The file failed its integrity check: a chunk was changed, reordered or cut off.',
  },
  MEDIA_CANCELLED: { status: 499, message: 'The transfer was cancelled.' },
  STICKER_PACK_NAME_INVALID: {
    status: 400,
    message: 'A sticker pack short name has 3 to 32 characters, a-z, 0-9 and _, and starts with a letter.',
  },
  STICKER_PACK_TITLE_INVALID: {
    status: 400,
    message: 'A sticker pack title has 1 to 64 characters, and no control characters.',
  },
  STICKER_PACK_NAME_TAKEN: { status: 409, message: 'A sticker pack with that short name exists.' },
  STICKER_PACK_NOT_FOUND: { status: 404, message: 'No sticker pack has that short name.' },
  STICKER_PACK_LIMIT: { status: 409, message: 'This account owns as many sticker packs as it may.' },
  STICKER_PACK_FULL: { status: 409, message: 'The sticker pack holds as many stickers as it may.' },
  STICKER_NOT_OWNER: { status: 403, message: 'Only the owner of a sticker pack may change it.' },
  STICKER_NOT_FOUND: { status: 404, message: 'No such sticker.' },
  STICKER_EMOJI_INVALID: { status: 400, message: 'A sticker is named by one emoji.' },
  STICKER_TOO_LARGE: { status: 413, message: 'The sticker image is larger than this server accepts.' },
  STICKER_NOT_IMAGE: { status: 415, message: 'The upload is not a readable image.' },
  STICKER_TYPE_UNSUPPORTED: {
    status: 415,
    message: 'A sticker is a still PNG or WebP, or an animated WebP, uploaded as image/png or image/webp.',
  },
  STICKER_TYPE_MISMATCH: {
    status: 415,
    message: 'The image is not of the type it was uploaded as (e.g. a PNG named or sent as WebP).',
  },
  STICKER_DIMENSIONS_INVALID: {
    status: 422,
    message: 'A sticker is 512 pixels on one side and at most 512 on the other.',
  },
  STICKER_TOO_MANY_FRAMES: {
    status: 422,
    message: 'The animated sticker has more frames than this server accepts.',
  },
  CHANNEL_NOT_FOUND: {
    status: 404,
    message: 'No such channel, or it is private and you are not subscribed to it.',
  },
  CHANNEL_NAME_INVALID: {
    status: 400,
    message: 'A channel name has 5 to 32 characters: a-z, 0-9 and _ (written with or without a leading @).',
  },
  CHANNEL_NAME_TAKEN: { status: 409, message: 'That channel name is taken.' },
  CHANNEL_INVALID: {
    status: 400,
    message:
      'A channel has a title of 1 to 128 characters without control characters, a description of at most 512 characters (line breaks allowed), a visibility (public or private) and a 32-byte Ed25519 public key.',
  },
  CHANNEL_NOT_ADMIN: { status: 403, message: "Only the channel's owner and admins may do this." },
  CHANNEL_NOT_OWNER: { status: 403, message: "Only the channel's owner may do this." },
  CHANNEL_NOT_SUBSCRIBED: { status: 404, message: 'You are not subscribed to this channel.' },
  CHANNEL_PRIVATE: {
    status: 403,
    message: 'This channel is private: it is joined with an invite link from one of its admins.',
  },
  CHANNEL_INVITE_INVALID: {
    status: 404,
    message: 'The invite link is unknown or was revoked.',
  },
  CHANNEL_POST_INVALID: {
    status: 400,
    message:
      "A post has a 32-character post id, a revision, a body of at most the server's post size, and a 64-byte signature.",
  },
  CHANNEL_POST_NOT_FOUND: { status: 404, message: 'No such post in this channel.' },
  CHANNEL_POST_BAD_SIGNATURE: {
    status: 400,
    message:
      "The post is not signed by the channel's key: the server stores only posts the channel key signed.",
  },
  CHANNEL_POST_STALE_REVISION: {
    status: 409,
    message: 'The post already has this revision or a later one; edit from the newest revision.',
  },
  CHANNEL_RATE_LIMITED: {
    status: 429,
    message: 'Too many subscribes and unsubscribes from this account; try again later.',
  },
  REQ_INVALID: { status: 400, message: 'The request does not match its schema.' },
  REQ_NOT_FOUND: { status: 404, message: 'No such route.' },
  REQ_TIMEOUT: { status: 408, message: 'The request did not arrive in time.' },
  REQ_HEADERS_TOO_LARGE: { status: 431, message: 'The request headers are larger than the server accepts.' },
  CONN_TOO_MANY: { status: 503, message: 'The server has too many open connections; try again later.' },
  CONN_TOO_MANY_FROM_ADDRESS: {
    status: 429,
    message: 'Too many connections are open from your network address; close one first.',
  },
  CONN_RATE_LIMITED: {
    status: 429,
    message: 'Too many new connections from your network address; try again later.',
  },
  SERVER_SHUTTING_DOWN: { status: 503, message: 'The server is shutting down; reconnect.' },
  SERVER_UNAVAILABLE: { status: 503, message: 'The server cannot serve this right now.' },
  STORAGE_UNAVAILABLE: {
    status: 503,
    message: 'The database cannot be reached or take writes right now; nothing was stored. Try again.',
  },
  SERVER_STORAGE_BUSY: {
    status: 503,
    message: 'The database is locked by another process for longer than the server waits; try again.',
  },
  SERVER_DATABASE_MISSING: {
    status: 503,
    message: 'The configured database does not exist and this server may not create it.',
  },
  SERVER_DEV_ONLY: {
    status: 500,
    message:
      'The log SMS adapter writes every code and phone number to the log; it runs only in explicit development mode (--dev, COURIER_DEV=1 or "dev": true).',
  },
  SERVER_KEY_INVALID: {
    status: 500,
    message: 'A server key is missing, unreadable or not 32 bytes of hex.',
  },
  CLIENT_STOPPED: {
    status: 499,
    message: 'The connection was stopped; the message stays in the outbox and is sent on the next start.',
  },
  INTERNAL: { status: 500, message: 'Something went wrong on the server.' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof errorCatalog;

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(errorCatalog, value);
}

/** The generic error envelope of every HTTP failure. */
export interface ErrorEnvelope {
  error: { code: ErrorCode; message: string; details?: Record<string, unknown> };
}

/** A failure with a catalog code. Lower errors travel as `cause`. */
export class CourierError extends Error {
  override readonly name = 'CourierError';
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: Record<string, unknown> | undefined;

  constructor(
    code: ErrorCode,
    options: { message?: string; details?: Record<string, unknown>; cause?: unknown } = {},
  ) {
    super(options.message ?? errorCatalog[code].message, { cause: options.cause });
    this.code = code;
    this.status = errorCatalog[code].status;
    this.details = options.details;
  }

  toEnvelope(): ErrorEnvelope {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.details === undefined ? {} : { details: this.details }),
      },
    };
  }
}

/**
 * A failure that means the session is over for good (signed out elsewhere, revoked with its device,
 * its account deleted, or never valid): the device must sign in again, as a new device. Rate limits
 * and other refusals of a live session are not among them. Takes any error with a catalog `code`
 * (a `CourierError`, or the web page's copy of one from its worker).
 */
export function endsSession(error: unknown): boolean {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return code === 'AUTH_INVALID_TOKEN' || code === 'AUTH_SESSION_REVOKED' || code === 'AUTH_REQUIRED';
}

/** WebSocket close codes the server uses (4000–4999 is the application range). */
export const closeCodes = {
  PROTOCOL_ERROR: 4400,
  UNAUTHORIZED: 4401,
  SESSION_REVOKED: 4403,
  /** A newer connection of the same device took over: the older client should stop, not reconnect. */
  REPLACED: 4409,
  HELLO_TIMEOUT: 4408,
  SLOW_CONSUMER: 4429,
  /** Too many open connections (AUTH_TOO_MANY_SOCKETS) or connects (AUTH_RATE_LIMITED): retry later. */
  TOO_MANY_SOCKETS: 4431,
  SHUTTING_DOWN: 4503,
} as const;
