import type { RosterEvent } from '@courier/protocol';
import type { CourierHttp, MessageStatus, SecureClientEvents, StoredMessage } from '@courier/sdk';
import type { Names } from './names.ts';
import { humanBytes } from './progress-bar.ts';
import { printable, safeJson } from './terminal-text.ts';

/** How a sent message's status looks in a terminal. */
export const STATUS_MARKS: Record<MessageStatus, string> = {
  queued: '(queued)',
  stored: '✓ stored',
  delivered: '✓✓ delivered',
  read: '✓✓ read',
};

/** How a person names a message to reply to, edit, delete, react to or forward: `#seq`, or its id before the server stored it. */
export function messageId(message: Pick<StoredMessage, 'seq' | 'clientMsgId'>): string {
  return message.seq > 0 ? `#${message.seq}` : message.clientMsgId;
}

/** A message of a type this version cannot show: said so, never hidden, never "undecryptable". */
export function unsupportedText(unsupported: { type: string; v: number }): string {
  return `(unsupported message: ${printable(unsupported.type)} v${unsupported.v}; update Courier to see it)`;
}

/**
 * Formats decrypted messages as `[chat] @sender: text` and roster changes as
 * `[chat] * @alice added @bob`, with chat titles (a direct chat is titled by the other person) and
 * names looked up once. Text from other people (messages, names, titles) goes through `printable`,
 * so that each message is exactly one line that nothing in it can recolour, clear or forge; JSON
 * lines are escaped by `safeJson`.
 */
export class MessagePrinter {
  private readonly titles = new Map<string, string>();

  constructor(
    private readonly http: CourierHttp,
    private readonly names: Names,
    private readonly me: string,
  ) {}

  async title(groupId: string): Promise<string> {
    const known = this.titles.get(groupId);
    if (known) return known;
    let title = groupId;
    try {
      const chat = await this.http.group(groupId);
      const other = chat.members.find((m) => m.accountId !== this.me)?.accountId;
      title = chat.kind === 'group' ? chat.title : other ? await this.names.of(other) : 'direct chat';
    } catch {
      // A chat I have left since: keep its id.
    }
    this.titles.set(groupId, title);
    return title;
  }

  async line(message: StoredMessage): Promise<string> {
    const title = printable(await this.title(message.groupId));
    const sender = printable(await this.names.of(message.senderAccountId));
    if (message.deleted) return `[${title}] ${sender}: (message deleted)`;
    const marks = this.marks(message);
    const from = message.forwarded
      ? `(forwarded from ${printable(await this.names.of(message.forwarded.accountId))}) `
      : '';
    if (message.file) {
      const f = message.file;
      const shape = f.width && f.height ? `, ${f.width}×${f.height}` : '';
      const length = f.durationMs ? `, ${(f.durationMs / 1000).toFixed(1)} s` : '';
      return `[${title}] ${sender}: ${from}[file] ${printable(f.name)} (${printable(f.mime)}, ${humanBytes(f.size)}${shape}${length}) — courier download ${f.blobId}${marks}`;
    }
    if (message.sticker)
      return `[${title}] ${sender}: [sticker ${printable(message.sticker.emoji)} from pack ${printable(message.sticker.pack)}]${marks}`;
    const body = `[${title}] ${sender}: ${from}${message.unsupported ? unsupportedText(message.unsupported) : printable(message.text)}${marks}`;
    return message.replyTo ? `${await this.quoteLine(message.replyTo)}\n${body}` : body;
  }

  /** The line above a reply: whom it answers and what it quotes. */
  private async quoteLine(replyTo: NonNullable<StoredMessage['replyTo']>): Promise<string> {
    const who = printable(await this.names.of(replyTo.senderAccountId));
    return `  > ${who}: ${replyTo.quote.length > 0 ? printable(replyTo.quote) : '(no text)'}`;
  }

  /** "(edited)" and the reaction counts after a message. */
  private marks(message: StoredMessage): string {
    return (message.edited ? '  (edited)' : '') + this.reactionCounts(message);
  }

  /** The reaction counts after a message: `  [👍 2 🎉 1]`. */
  private reactionCounts(message: StoredMessage): string {
    return message.reactions?.length
      ? `  [${message.reactions.map((r) => `${printable(r.emoji)} ${r.by.length}`).join(' ')}]`
      : '';
  }

  /** A sent message's line with its status mark (history). */
  async lineWithStatus(message: StoredMessage): Promise<string> {
    const line = await this.line(message);
    return message.outgoing && message.status ? `${line}  ${STATUS_MARKS[message.status]}` : line;
  }

  /**
   * A message as history shows it: its id first (`#12`, what reply, edit, delete, react and forward
   * take), then its line and status mark.
   */
  async historyLine(message: StoredMessage): Promise<string> {
    const line = await this.lineWithStatus(message);
    const id = messageId(message);
    const at = line.lastIndexOf('\n[');
    // A reply's quote line stays above it; the id goes on the message's own line.
    return at < 0 ? `${id} ${line}` : `${line.slice(0, at + 1)}${id} ${line.slice(at + 1)}`;
  }

  /** What an edit, deletion or reaction someone made did to a message (listen, chat). */
  async updateLine(event: SecureClientEvents['updated']): Promise<string> {
    const { message, action } = event;
    const title = printable(await this.title(message.groupId));
    const who = printable(await this.names.of(action.senderAccountId));
    const id = messageId(message);
    if (action.kind === 'edit') return `[${title}] ${who} edited ${id}: ${printable(message.text)}  (edited)`;
    if (action.kind === 'delete') return `[${title}] ${who} deleted ${id}: (message deleted)`;
    return `[${title}] ${who} ${action.on ? 'reacted' : 'took back'} ${printable(action.emoji)} ${action.on ? 'to' : 'on'} ${id}${this.reactionCounts(message) || '  [no reactions]'}`;
  }

  async updateJson(event: SecureClientEvents['updated']): Promise<string> {
    return safeJson({
      kind: 'update',
      action: event.action.kind,
      by: event.action.senderAccountId,
      byName: await this.names.of(event.action.senderAccountId),
      ...(event.action.kind === 'reaction' ? { emoji: event.action.emoji, on: event.action.on } : {}),
      message: JSON.parse(await this.json(event.message)),
    });
  }

  /** Delivered and read marks of the person's sent messages: `[chat] ✓✓ read by @bob up to #12`. */
  async statusLine(event: SecureClientEvents['status']): Promise<string> {
    const title = printable(await this.title(event.groupId));
    const by = event.byAccountId ? ` by ${printable(await this.names.of(event.byAccountId))}` : '';
    return `[${title}] ${STATUS_MARKS[event.status]}${by} up to #${event.upToSeq}`;
  }

  async statusJson(event: SecureClientEvents['status']): Promise<string> {
    return safeJson({
      groupId: event.groupId,
      chat: await this.title(event.groupId),
      kind: 'status',
      status: event.status,
      upToSeq: event.upToSeq,
      ...(event.byAccountId ? { by: event.byAccountId, byName: await this.names.of(event.byAccountId) } : {}),
    });
  }

  async rosterLine(groupId: string, event: RosterEvent): Promise<string> {
    // A roster change may change the chat's title.
    this.titles.delete(groupId);
    return `[${printable(await this.title(groupId))}] * ${printable(await this.names.rosterEvent(event))}`;
  }

  /** One JSON object per line, for scripts. */
  async json(message: StoredMessage): Promise<string> {
    return safeJson({
      groupId: message.groupId,
      chat: await this.title(message.groupId),
      seq: message.seq,
      kind: 'message',
      from: message.senderAccountId,
      fromName: await this.names.of(message.senderAccountId),
      sentAtMs: message.sentAtMs,
      text: message.text,
      // What the file is and how to fetch it; never its key.
      ...(message.file
        ? {
            file: {
              blobId: message.file.blobId,
              name: message.file.name,
              mime: message.file.mime,
              size: message.file.size,
              ...(message.file.width ? { width: message.file.width } : {}),
              ...(message.file.height ? { height: message.file.height } : {}),
              ...(message.file.durationMs ? { durationMs: message.file.durationMs } : {}),
              hasPreview: message.file.preview !== undefined,
            },
          }
        : {}),
      ...(message.sticker ? { sticker: message.sticker } : {}),
      ...(message.unsupported ? { unsupported: message.unsupported } : {}),
      id: messageId(message),
      clientMsgId: message.clientMsgId,
      fromDevice: message.senderDeviceId,
      ...(message.replyTo ? { replyTo: message.replyTo } : {}),
      ...(message.forwarded ? { forwarded: message.forwarded } : {}),
      ...(message.edited ? { edited: message.edited } : {}),
      ...(message.deleted ? { deleted: message.deleted } : {}),
      ...(message.reactions ? { reactions: message.reactions } : {}),
      ...(message.outgoing ? { outgoing: true } : {}),
      ...(message.status ? { status: message.status } : {}),
    });
  }

  async rosterJson(groupId: string, seq: number, event: RosterEvent): Promise<string> {
    this.titles.delete(groupId);
    return safeJson({
      groupId,
      chat: await this.title(groupId),
      seq,
      kind: 'roster',
      from: event.actorAccountId,
      fromName: await this.names.of(event.actorAccountId),
      roster: event,
      text: await this.names.rosterEvent(event),
    });
  }
}
