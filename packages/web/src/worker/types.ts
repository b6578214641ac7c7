/** What the page and the worker exchange: plain data only (structured clone). */
import type { FileReportBody } from '@courier/protocol';
import type { MessageMarks } from './message-actions.ts';

/** A call's outcome: failures carry the catalog code (Comlink would keep only an Error's message). */
export type Outcome<T> =
  | { ok: true; value: T }
  | { ok: false; error: { code: string; message: string; details?: Record<string, unknown> } };

export interface Session {
  token: string;
  accountId: string;
  deviceId: string;
  phone: string;
}

export interface ChatSummary {
  groupId: string;
  kind: 'direct' | 'group' | 'channel';
  title: string;
  /** The other person of a direct chat. */
  peerAccountId?: string;
  /**
   * A message request: a direct chat a stranger opened that I have not accepted. Listed under
   * Requests, not among the chats; opening it marks nothing read.
   */
  request?: true;
  lastText: string;
  lastAtMs: number;
  unread: number;
  memberCount: number;
  myRole: 'owner' | 'admin' | 'member';
  /** This device holds the chat's keys (false until its Welcome arrived). */
  ready: boolean;
  /** Direct chats: the contact's keys changed since the person last compared the safety number. */
  keysChanged: boolean;
  /** Direct chats: the person marked the contact verified. */
  verified: boolean;
}

/** A sent message: in this device's outbox, stored by the server, delivered to, or read by, another person. */
export type SendState = 'queued' | 'stored' | 'delivered' | 'read';

export interface MessageRow {
  key: string;
  seq: number;
  sentAtMs: number;
  outgoing: boolean;
  senderName: string;
  text: string;
  /** Outgoing only: where it is, as receipts tell (read shows only while read receipts are on). */
  state?: SendState;
  /** A line about the chat itself (someone added, removed, left), not a message. */
  notice?: boolean;
  /** A photo, video, voice note or file (text is then empty): what shows before any download. */
  file?: MediaInfo;
  /** Reply, forward, edit, delete and reactions (issue 14): absent on notices. */
  actions?: MessageMarks;
  /** A sticker message: which sticker of which public pack (text is then empty). */
  sticker?: { pack: string; index: number; emoji: string };
}

export interface MessagePage {
  /** Oldest first. */
  rows: MessageRow[];
  /** The cursor of this page's oldest row: pass it back for the page before (absent at the chat's start). */
  before?: number;
  more: boolean;
}

export interface MemberRow {
  accountId: string;
  /** Absent in a group until asked for (`Device.memberNames`, for the rows in view). */
  name?: string;
  role: 'owner' | 'admin' | 'member';
  me: boolean;
}

export interface ChatInfo {
  groupId: string;
  kind: 'direct' | 'group' | 'channel';
  title: string;
  myRole: 'owner' | 'admin' | 'member';
  members: MemberRow[];
  peerAccountId?: string;
  /** Set in a group of more devices than receipts are sent in: the sentence saying so. */
  receiptsOff?: string;
}

/** What the worker tells the page: something changed, ask again. */
export type DeviceEvent =
  | { kind: 'chats' }
  | { kind: 'messages'; groupId: string }
  | { kind: 'connection'; state: string }
  | { kind: 'key_change'; accountId: string }
  | { kind: 'signed_out'; code: string }
  | { kind: 'problem'; message: string }
  /** Broadcast channels: the list (unread counts, roles) changed. */
  | { kind: 'channels' }
  /** A channel's posts changed (a post arrived, was edited or deleted). */
  | { kind: 'channel'; channelId: string }
  /**
   * A channel key handed over end to end (by the owner, in a chat) was checked: imported (this device
   * may now post) or refused, with the words to show the person.
   */
  | { kind: 'channel_key'; channelId: string; imported: boolean; text: string };

/** A message request (a direct chat a stranger opened) or a group invitation, waiting for me. */
export interface RequestRow {
  groupId: string;
  type: 'direct' | 'invitation';
  fromAccountId: string;
  fromName: string;
  /** The group's title (invitations); the sender's name (message requests). */
  title: string;
  memberCount: number;
  createdAtMs: number;
  /** Message requests: this device holds the chat's keys (its messages can be read). */
  ready: boolean;
  /** Message requests: the last message, as held on this device. */
  lastText: string;
}

/** A person I blocked. */
export interface BlockRow {
  accountId: string;
  name: string;
  createdAtMs: number;
}

/** A message of a chat that a report may forward (readable text, not roster lines). */
export interface ReportCandidate {
  clientMsgId: string;
  senderAccountId: string;
  senderName: string;
  sentAtMs: number;
  text: string;
  outgoing: boolean;
}

/** Exactly what a report sends, and how it reads to the person (names instead of account ids). */
export interface ReportPreview {
  body: FileReportBody;
  senderNames: Record<string, string>;
  reportedName?: string;
}

/** A file message as a chat shows it before any download (the key and blob id stay in the worker). */
export interface MediaInfo {
  name: string;
  mime: string;
  size: number;
  width?: number;
  height?: number;
  durationMs?: number;
  /** The sender's thumbnail (a photo's, a video's poster frame), from inside the encrypted message. */
  preview?: { mime: string; bytes: Uint8Array };
}

/** What the page knows of a file it sends, besides its bytes: made on the page (canvas, <video>). */
export interface MediaMeta {
  name: string;
  mime: string;
  width?: number;
  height?: number;
  durationMs?: number;
  preview?: { mime: string; bytes: Uint8Array };
}

export interface TransferProgress {
  done: number;
  total: number;
}

/**
 * A file this device is still sending to a chat (kept across reloads and browser restarts until its
 * message is sent or the person cancels): what the chat shows of it.
 */
export interface PendingUploadView {
  /** The transfer id (to cancel it). */
  id: string;
  name: string;
  progress: TransferProgress;
  /** Under way in this tab; false while it waits (offline, or running in another tab). */
  running: boolean;
}

/** The media service worker asks the device worker for plaintext bytes [start, end) of a file. */
export interface MediaRangeRequest {
  groupId: string;
  messageKey: string;
  start: number;
  /** One past the last byte; the end of the file when absent. */
  end?: number;
  /** Where the reply goes. */
  reply: MessagePort;
}

export type MediaRangeReply =
  | { ok: true; mime: string; size: number; start: number; end: number; body: ReadableStream<Uint8Array> }
  | { ok: false; code: string; message: string };

/** A broadcast channel as the channel list and the channel view show it (issue 16). */
export interface ChannelSummary {
  channelId: string;
  name: string;
  title: string;
  /** What the channel says of itself ('' when nothing). */
  description: string;
  visibility: 'public' | 'private';
  /** My relation to it: null when only previewed (not subscribed). */
  myRole: 'owner' | 'admin' | 'subscriber' | null;
  subscriberCount: number;
  /** New posts after my subscription's cursor that this device has not shown (at most `UNREAD_CAP`). */
  unread: number;
  /** More unread posts than counted. */
  unreadMore: boolean;
  /** This device holds the channel's key, so it may post (the owner's device, or an admin's given the key). */
  canPost: boolean;
  /** The fingerprint of the key every post is checked against (the pinned one). */
  key: string;
  /** The server shows another key than the one pinned on subscribe (fingerprints of both). */
  keyChange?: { pinned: string; served: string };
}

/** One post as the channel view shows it: from the channel (its signature verified), or rejected. */
export interface ChannelPostRow {
  postId: string;
  seq: number;
  /** `rejected`: its signature does not verify against the pinned key; none of its content is shown. */
  kind: 'post' | 'rejected';
  text: string;
  sticker?: { pack: string; index: number; emoji: string };
  /** A photo, video or file post: what shows before any download (the preview travels in the post). */
  file?: MediaInfo;
  /** A kind of post this app cannot show (its type), or a malformed one. */
  unsupported?: string;
  createdAtMs: number;
  edited: boolean;
  views: number;
}

export interface ChannelPostPage {
  /** Oldest first. */
  rows: ChannelPostRow[];
  /** Older posts exist (ask again with a larger limit). */
  more: boolean;
}

/** What a channel link or @name leads to before subscribing (`invite`: it came by an invite link). */
export interface ChannelPreview {
  kind: 'channel';
  channel: ChannelSummary;
  target: string;
  invite: boolean;
}

/** One person who runs a channel, as the Manage panel lists them (never a phone number). */
export interface ChannelAdminRow {
  accountId: string;
  role: 'owner' | 'admin';
  /** How the person is called: display name, else @username. */
  name: string;
  username: string | null;
  sinceMs: number;
  /** This account. */
  me: boolean;
}

export interface ChannelInviteRow {
  inviteId: string;
  createdAtMs: number;
  revokedAtMs: number | null;
}
