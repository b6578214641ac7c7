import { decodeRosterEvent, type EntryFrame, type RosterEvent } from '@courier/protocol';
import type { CourierHttp } from '@courier/sdk';
import type { Names } from './names.ts';
import { decodeText } from './plaintext-codec.ts';

/**
 * Formats entries as `[chat] @sender: text` and roster changes as `[chat] * @alice added @bob`,
 * with chat titles (a direct chat is titled by the other person) and names looked up once.
 */
export class EntryPrinter {
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

  /** A group's title may change its display; forget it when the roster changes. */
  private forget(entry: EntryFrame): void {
    if (entry.kind === 'roster') this.titles.delete(entry.groupId);
  }

  async line(entry: EntryFrame): Promise<string> {
    const where = await this.title(entry.groupId);
    this.forget(entry);
    if (entry.kind === 'roster') return `[${where}] * ${await this.names.roster(entry.payload)}`;
    return `[${where}] ${await this.names.of(entry.senderAccountId)}: ${decodeText(entry.payload)}`;
  }

  /** One JSON object per line, for scripts. */
  async json(entry: EntryFrame): Promise<string> {
    const chat = await this.title(entry.groupId);
    this.forget(entry);
    const common = {
      groupId: entry.groupId,
      chat,
      seq: entry.seq,
      kind: entry.kind,
      from: entry.senderAccountId,
      fromName: await this.names.of(entry.senderAccountId),
      sentAtMs: entry.sentAtMs,
    };
    if (entry.kind !== 'roster') return JSON.stringify({ ...common, text: decodeText(entry.payload) });
    let roster: RosterEvent | undefined;
    try {
      roster = decodeRosterEvent(entry.payload);
    } catch {
      roster = undefined;
    }
    return JSON.stringify({
      ...common,
      roster: roster ?? null,
      text: await this.names.roster(entry.payload),
    });
  }
}
