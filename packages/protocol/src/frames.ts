/**
 * The frame codec: the public, plain-object form of the WebSocket frames and their binary
 * encoding (Protocol Buffers, `proto/courier/v1/frames.proto`). Callers never see generated
 * types; decoding validates and throws only `CourierError` (PROTO_*).
 */
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { CourierError } from './errors.ts';
import {
  ClientFrameSchema,
  EntryKind,
  MailboxKind,
  MlsWelcomeSchema,
  RosterAction,
  RosterEventSchema,
  ServerFrameSchema,
} from './gen/courier/v1/frames_pb.ts';
import { MAX_FRAME_BYTES } from './limits.ts';

export type ClientFrame =
  | { type: 'hello'; protocolVersion: number; token: string; client: string; sendOnly?: boolean }
  | { type: 'send'; requestId: number; groupId: string; clientMsgId: string; payload: Uint8Array }
  | { type: 'ack'; groupId: string; seq: number }
  | { type: 'send_to_device'; requestId: number; deviceId: string; clientMsgId: string; payload: Uint8Array }
  | { type: 'mailbox_ack'; seq: number }
  | { type: 'ping'; nonce: number }
  /** Cumulative: the account has read the channel's posts up to `seq` (moves its subscription cursor). */
  | { type: 'channel_read'; channelId: string; seq: number };

/** message: a client's MLS application message; roster: the server's roster event; commit: an accepted MLS commit. */
export type EntryType = 'message' | 'roster' | 'commit';

/** device: bytes another device sent; welcome: an encoded MlsWelcome from the delivery service. */
export type MailboxType = 'device' | 'welcome';

export interface EntryFrame {
  type: 'entry';
  groupId: string;
  seq: number;
  kind: EntryType;
  senderAccountId: string;
  senderDeviceId: string;
  clientMsgId: string;
  payload: Uint8Array;
  sentAtMs: number;
}

export interface MailboxItemFrame {
  type: 'mailbox_item';
  seq: number;
  kind: MailboxType;
  senderAccountId: string;
  senderDeviceId: string;
  clientMsgId: string;
  payload: Uint8Array;
  sentAtMs: number;
}

export type ServerFrame =
  | {
      type: 'ready';
      protocolVersion: number;
      accountId: string;
      deviceId: string;
      serverTimeMs: number;
      maxFrameBytes: number;
      maxPayloadBytes: number;
    }
  | {
      type: 'accepted';
      requestId: number;
      groupId: string;
      deviceId: string;
      seq: number;
      duplicate: boolean;
    }
  | EntryFrame
  | MailboxItemFrame
  | { type: 'error'; requestId: number; code: string; message: string }
  | { type: 'pong'; nonce: number; serverTimeMs: number }
  | { type: 'group_joined'; groupId: string; fromSeq: number }
  | { type: 'group_left'; groupId: string }
  | { type: 'goodbye'; code: string; message: string }
  | ChannelPostedFrame;

/** One revision of a channel post, carried in a `channel_posted` frame (the HTTP page's fields, as bytes). */
export interface PushedChannelPost {
  postId: string;
  seq: number;
  revision: number;
  deleted: boolean;
  body: Uint8Array;
  signature: Uint8Array;
  createdAtMs: number;
  editedAtMs: number | null;
  views: number;
}

/**
 * A subscribed channel has new posts up to `seq`. With `post` (the post at `seq`, when it is small)
 * the client has it at once and checks its signature; without, it reads from its cursor over HTTP.
 */
export interface ChannelPostedFrame {
  type: 'channel_posted';
  channelId: string;
  seq: number;
  post?: PushedChannelPost;
}

export type RosterActionName = 'created' | 'added' | 'removed' | 'left' | 'role_changed' | 'device_added';

/** The payload of a `roster` entry, written by the server (never by a client). */
export interface RosterEvent {
  action: RosterActionName;
  actorAccountId: string;
  subjectAccountIds: string[];
  role: string;
  title: string;
}

const u64 = (n: number): bigint => BigInt(n);

function toSafe(value: bigint, field: string): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new CourierError('PROTO_MALFORMED_FRAME', { message: `${field} is out of range.` });
  }
  return Number(value);
}

/** A time in ms since 1970 from an int64 field: never negative, never past 2^53. */
function toTime(value: bigint, field: string): number {
  if (value < 0n) throw new CourierError('PROTO_MALFORMED_FRAME', { message: `${field} is negative.` });
  return toSafe(value, field);
}

function checkSize(bytes: Uint8Array): void {
  if (bytes.byteLength > MAX_FRAME_BYTES) throw new CourierError('PROTO_FRAME_TOO_LARGE');
  if (bytes.byteLength === 0)
    throw new CourierError('PROTO_MALFORMED_FRAME', { message: 'The frame is empty.' });
}

function decodeWith<T>(decode: () => T): T {
  try {
    return decode();
  } catch (cause) {
    throw new CourierError('PROTO_MALFORMED_FRAME', { cause });
  }
}

export function encodeClientFrame(frame: ClientFrame): Uint8Array {
  const body = ((): Parameters<typeof create<typeof ClientFrameSchema>>[1] => {
    switch (frame.type) {
      case 'hello':
        return {
          body: {
            case: 'hello',
            value: {
              protocolVersion: frame.protocolVersion,
              token: frame.token,
              client: frame.client,
              sendOnly: frame.sendOnly ?? false,
            },
          },
        };
      case 'send':
        return {
          body: {
            case: 'send',
            value: {
              requestId: frame.requestId,
              groupId: frame.groupId,
              clientMsgId: frame.clientMsgId,
              payload: frame.payload,
            },
          },
        };
      case 'ack':
        return { body: { case: 'ack', value: { groupId: frame.groupId, seq: u64(frame.seq) } } };
      case 'send_to_device':
        return {
          body: {
            case: 'sendToDevice',
            value: {
              requestId: frame.requestId,
              deviceId: frame.deviceId,
              clientMsgId: frame.clientMsgId,
              payload: frame.payload,
            },
          },
        };
      case 'mailbox_ack':
        return { body: { case: 'mailboxAck', value: { seq: u64(frame.seq) } } };
      case 'ping':
        return { body: { case: 'ping', value: { nonce: u64(frame.nonce) } } };
      case 'channel_read':
        return { body: { case: 'channelRead', value: { channelId: frame.channelId, seq: u64(frame.seq) } } };
    }
  })();
  return toBinary(ClientFrameSchema, create(ClientFrameSchema, body));
}

export function decodeClientFrame(bytes: Uint8Array): ClientFrame {
  checkSize(bytes);
  const { body } = decodeWith(() => fromBinary(ClientFrameSchema, bytes));
  switch (body.case) {
    case 'hello':
      return {
        type: 'hello',
        protocolVersion: body.value.protocolVersion,
        token: body.value.token,
        client: body.value.client,
        ...(body.value.sendOnly ? { sendOnly: true } : {}),
      };
    case 'send':
      return {
        type: 'send',
        requestId: body.value.requestId,
        groupId: body.value.groupId,
        clientMsgId: body.value.clientMsgId,
        payload: body.value.payload,
      };
    case 'ack':
      return { type: 'ack', groupId: body.value.groupId, seq: toSafe(body.value.seq, 'seq') };
    case 'sendToDevice':
      return {
        type: 'send_to_device',
        requestId: body.value.requestId,
        deviceId: body.value.deviceId,
        clientMsgId: body.value.clientMsgId,
        payload: body.value.payload,
      };
    case 'mailboxAck':
      return { type: 'mailbox_ack', seq: toSafe(body.value.seq, 'seq') };
    case 'ping':
      return { type: 'ping', nonce: toSafe(body.value.nonce, 'nonce') };
    case 'channelRead':
      return { type: 'channel_read', channelId: body.value.channelId, seq: toSafe(body.value.seq, 'seq') };
    default:
      throw new CourierError('PROTO_UNKNOWN_FRAME');
  }
}

const entryKinds: Record<EntryType, EntryKind> = {
  message: EntryKind.MESSAGE,
  roster: EntryKind.ROSTER,
  commit: EntryKind.COMMIT,
};
const entryTypes = new Map<EntryKind, EntryType>(
  Object.entries(entryKinds).map(([type, kind]) => [kind, type as EntryType]),
);
const mailboxKinds: Record<MailboxType, MailboxKind> = {
  device: MailboxKind.DEVICE,
  welcome: MailboxKind.WELCOME,
};

export function encodeServerFrame(frame: ServerFrame): Uint8Array {
  const body = ((): Parameters<typeof create<typeof ServerFrameSchema>>[1] => {
    switch (frame.type) {
      case 'ready':
        return {
          body: {
            case: 'ready',
            value: {
              protocolVersion: frame.protocolVersion,
              accountId: frame.accountId,
              deviceId: frame.deviceId,
              serverTimeMs: u64(frame.serverTimeMs),
              maxFrameBytes: frame.maxFrameBytes,
              maxPayloadBytes: frame.maxPayloadBytes,
            },
          },
        };
      case 'accepted':
        return {
          body: {
            case: 'accepted',
            value: {
              requestId: frame.requestId,
              groupId: frame.groupId,
              deviceId: frame.deviceId,
              seq: u64(frame.seq),
              duplicate: frame.duplicate,
            },
          },
        };
      case 'entry':
        return {
          body: {
            case: 'entry',
            value: {
              groupId: frame.groupId,
              seq: u64(frame.seq),
              kind: entryKinds[frame.kind],
              senderAccountId: frame.senderAccountId,
              senderDeviceId: frame.senderDeviceId,
              clientMsgId: frame.clientMsgId,
              payload: frame.payload,
              sentAtMs: u64(frame.sentAtMs),
            },
          },
        };
      case 'mailbox_item':
        return {
          body: {
            case: 'mailboxItem',
            value: {
              seq: u64(frame.seq),
              kind: mailboxKinds[frame.kind],
              senderAccountId: frame.senderAccountId,
              senderDeviceId: frame.senderDeviceId,
              clientMsgId: frame.clientMsgId,
              payload: frame.payload,
              sentAtMs: u64(frame.sentAtMs),
            },
          },
        };
      case 'error':
        return {
          body: {
            case: 'error',
            value: { requestId: frame.requestId, code: frame.code, message: frame.message },
          },
        };
      case 'pong':
        return {
          body: { case: 'pong', value: { nonce: u64(frame.nonce), serverTimeMs: u64(frame.serverTimeMs) } },
        };
      case 'group_joined':
        return {
          body: { case: 'groupJoined', value: { groupId: frame.groupId, fromSeq: u64(frame.fromSeq) } },
        };
      case 'group_left':
        return { body: { case: 'groupLeft', value: { groupId: frame.groupId } } };
      case 'goodbye':
        return { body: { case: 'goodbye', value: { code: frame.code, message: frame.message } } };
      case 'channel_posted': {
        const post = frame.post;
        return {
          body: {
            case: 'channelPosted',
            value: {
              channelId: frame.channelId,
              seq: u64(frame.seq),
              ...(post
                ? {
                    post: {
                      postId: post.postId,
                      seq: u64(post.seq),
                      revision: post.revision,
                      deleted: post.deleted,
                      body: post.body,
                      signature: post.signature,
                      createdAtMs: u64(post.createdAtMs),
                      ...(post.editedAtMs === null ? {} : { editedAtMs: u64(post.editedAtMs) }),
                      views: u64(post.views),
                    },
                  }
                : {}),
            },
          },
        };
      }
    }
  })();
  return toBinary(ServerFrameSchema, create(ServerFrameSchema, body));
}

export function decodeServerFrame(bytes: Uint8Array): ServerFrame {
  checkSize(bytes);
  const { body } = decodeWith(() => fromBinary(ServerFrameSchema, bytes));
  switch (body.case) {
    case 'ready': {
      const v = body.value;
      return {
        type: 'ready',
        protocolVersion: v.protocolVersion,
        accountId: v.accountId,
        deviceId: v.deviceId,
        serverTimeMs: toSafe(v.serverTimeMs, 'serverTimeMs'),
        maxFrameBytes: v.maxFrameBytes,
        maxPayloadBytes: v.maxPayloadBytes,
      };
    }
    case 'accepted': {
      const v = body.value;
      return {
        type: 'accepted',
        requestId: v.requestId,
        groupId: v.groupId,
        deviceId: v.deviceId,
        seq: toSafe(v.seq, 'seq'),
        duplicate: v.duplicate,
      };
    }
    case 'entry': {
      const v = body.value;
      const kind = entryTypes.get(v.kind);
      if (kind === undefined)
        throw new CourierError('PROTO_MALFORMED_FRAME', { message: 'Unknown entry kind.' });
      return {
        type: 'entry',
        groupId: v.groupId,
        seq: toSafe(v.seq, 'seq'),
        kind,
        senderAccountId: v.senderAccountId,
        senderDeviceId: v.senderDeviceId,
        clientMsgId: v.clientMsgId,
        payload: v.payload,
        sentAtMs: toSafe(v.sentAtMs, 'sentAtMs'),
      };
    }
    case 'mailboxItem': {
      const v = body.value;
      return {
        type: 'mailbox_item',
        seq: toSafe(v.seq, 'seq'),
        kind: mailboxKind(v.kind),
        senderAccountId: v.senderAccountId,
        senderDeviceId: v.senderDeviceId,
        clientMsgId: v.clientMsgId,
        payload: v.payload,
        sentAtMs: toSafe(v.sentAtMs, 'sentAtMs'),
      };
    }
    case 'error':
      return {
        type: 'error',
        requestId: body.value.requestId,
        code: body.value.code,
        message: body.value.message,
      };
    case 'pong':
      return {
        type: 'pong',
        nonce: toSafe(body.value.nonce, 'nonce'),
        serverTimeMs: toSafe(body.value.serverTimeMs, 'serverTimeMs'),
      };
    case 'groupJoined':
      return {
        type: 'group_joined',
        groupId: body.value.groupId,
        fromSeq: toSafe(body.value.fromSeq, 'fromSeq'),
      };
    case 'groupLeft':
      return { type: 'group_left', groupId: body.value.groupId };
    case 'goodbye':
      return { type: 'goodbye', code: body.value.code, message: body.value.message };
    case 'channelPosted': {
      const seq = toSafe(body.value.seq, 'seq');
      const post = body.value.post;
      if (!post) return { type: 'channel_posted', channelId: body.value.channelId, seq };
      // The post carried is the one at `seq`: anything else is not a frame this server sends.
      if (toSafe(post.seq, 'post.seq') !== seq)
        throw new CourierError('PROTO_MALFORMED_FRAME', { message: 'The post is not the one at seq.' });
      return {
        type: 'channel_posted',
        channelId: body.value.channelId,
        seq,
        post: {
          postId: post.postId,
          seq,
          revision: post.revision,
          deleted: post.deleted,
          body: post.body,
          signature: post.signature,
          createdAtMs: toTime(post.createdAtMs, 'createdAtMs'),
          editedAtMs: post.editedAtMs === undefined ? null : toTime(post.editedAtMs, 'editedAtMs'),
          views: toSafe(post.views, 'views'),
        },
      };
    }
    default:
      throw new CourierError('PROTO_UNKNOWN_FRAME');
  }
}

const rosterActions: Record<RosterActionName, RosterAction> = {
  created: RosterAction.CREATED,
  added: RosterAction.ADDED,
  removed: RosterAction.REMOVED,
  left: RosterAction.LEFT,
  role_changed: RosterAction.ROLE_CHANGED,
  device_added: RosterAction.DEVICE_ADDED,
};

export function encodeRosterEvent(event: RosterEvent): Uint8Array {
  return toBinary(
    RosterEventSchema,
    create(RosterEventSchema, { ...event, action: rosterActions[event.action] }),
  );
}

export function decodeRosterEvent(bytes: Uint8Array): RosterEvent {
  const v = decodeWith(() => fromBinary(RosterEventSchema, bytes));
  const action = (Object.keys(rosterActions) as RosterActionName[]).find(
    (name) => rosterActions[name] === v.action,
  );
  if (action === undefined)
    throw new CourierError('PROTO_MALFORMED_FRAME', { message: 'Unknown roster action.' });
  return {
    action,
    actorAccountId: v.actorAccountId,
    subjectAccountIds: [...v.subjectAccountIds],
    role: v.role,
    title: v.title,
  };
}

function mailboxKind(kind: MailboxKind): MailboxType {
  if (kind === MailboxKind.DEVICE) return 'device';
  if (kind === MailboxKind.WELCOME) return 'welcome';
  throw new CourierError('PROTO_MALFORMED_FRAME', { message: 'Unknown mailbox item kind.' });
}

/** A Welcome the delivery service routes to one added device (the payload of a `welcome` mailbox item). */
export interface MlsWelcomeItem {
  groupId: string;
  /** The epoch the Welcome joins at; its ratchet tree is served apart. */
  epoch: number;
  /** Where the commit that added the device sits in the group's log. */
  commitSeq: number;
  welcome: Uint8Array;
}

export function encodeMlsWelcome(item: MlsWelcomeItem): Uint8Array {
  return toBinary(
    MlsWelcomeSchema,
    create(MlsWelcomeSchema, {
      groupId: item.groupId,
      epoch: u64(item.epoch),
      commitSeq: u64(item.commitSeq),
      welcome: item.welcome,
    }),
  );
}

/** Throws PROTO_MALFORMED_FRAME for anything that is not a complete MlsWelcome. */
export function decodeMlsWelcome(bytes: Uint8Array): MlsWelcomeItem {
  let decoded: ReturnType<typeof fromBinary<typeof MlsWelcomeSchema>>;
  try {
    decoded = fromBinary(MlsWelcomeSchema, bytes);
  } catch (cause) {
    throw new CourierError('PROTO_MALFORMED_FRAME', {
      message: 'The Welcome item could not be decoded.',
      cause,
    });
  }
  if (decoded.groupId.length === 0 || decoded.welcome.length === 0)
    throw new CourierError('PROTO_MALFORMED_FRAME', { message: 'The Welcome item is incomplete.' });
  return {
    groupId: decoded.groupId,
    epoch: toSafe(decoded.epoch, 'epoch'),
    commitSeq: toSafe(decoded.commitSeq, 'commitSeq'),
    welcome: decoded.welcome,
  };
}
