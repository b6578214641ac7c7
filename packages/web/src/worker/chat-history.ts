/**
 * A chat's history as the worker shows it, read from the SDK's device store one page at a time (an
 * IndexedDB index by chat and order): opening a chat of 10,000 messages reads its newest page, not
 * the chat. Also what the chat list needs of each chat (its last message, its unread count), kept
 * per chat until that chat changes, so that a list of hundreds of chats is not re-read on every
 * message.
 */
import { type ChatGlanceRead, MAX_HISTORY_PAGE, type SecureClient, type StoredMessage } from '@courier/sdk';

/** Reads what the chat list needs of many chats at once (IndexedDbMlsStore.glances: one transaction). */
export type GlanceReader = (groupIds: readonly string[]) => Promise<Map<string, ChatGlanceRead>>;

/** What the chat list shows of one chat. */
export interface ChatGlance {
  /** The newest message that is not a roster line (the list's preview). */
  lastText?: StoredMessage;
  /** When the newest entry of any kind was written. */
  lastAtMs: number;
  unread: number;
}

/** A run of a chat's history, oldest first, and the cursor of the page before it. */
export interface HistoryRun {
  messages: StoredMessage[];
  /** Pass as `before` for older messages; absent when the run reaches the chat's first message. */
  before?: number;
}

export class ChatHistory {
  private readonly keptGlances = new Map<string, ChatGlance>();
  /** Per chat, how many changes were announced: a glance read across a change is not kept. */
  private readonly changes = new Map<string, number>();

  constructor(
    private readonly client: Pick<SecureClient, 'history' | 'unreadCount'>,
    /** Without it each chat is read on its own (`glance`). */
    private readonly readGlances?: GlanceReader,
  ) {}

  /** Something happened in the chat (a message, a receipt, a read elsewhere): ask the store again. */
  changed(groupId: string): void {
    this.keptGlances.delete(groupId);
    this.changes.set(groupId, (this.changes.get(groupId) ?? 0) + 1);
  }

  /** Up to `limit` messages older than `before` (from the newest when absent), oldest first. */
  async older(groupId: string, before: number | undefined, limit: number): Promise<HistoryRun> {
    const messages: StoredMessage[] = [];
    let cursor = before;
    let reachedStart = false;
    while (messages.length < limit) {
      const page = await this.client.history(groupId, {
        limit: Math.min(MAX_HISTORY_PAGE, limit - messages.length),
        ...(cursor === undefined ? {} : { before: cursor }),
      });
      messages.push(...page.messages);
      if (page.before === undefined) {
        reachedStart = true;
        break;
      }
      cursor = page.before;
    }
    const ordered = inLogOrder(messages.reverse());
    return reachedStart || cursor === undefined
      ? { messages: ordered }
      : { messages: ordered, before: cursor };
  }

  /**
   * The newest messages down to the cursor `since` (a `before` this class gave: what a view shows
   * already, plus what came since), at least `atLeast` of them; `since` 0 means the whole chat.
   */
  async since(groupId: string, since: number, atLeast: number): Promise<HistoryRun> {
    const messages: StoredMessage[] = [];
    let cursor: number | undefined;
    for (;;) {
      const page = await this.client.history(groupId, {
        limit: Math.min(MAX_HISTORY_PAGE, Math.max(50, atLeast - messages.length)),
        ...(cursor === undefined ? {} : { before: cursor }),
      });
      messages.push(...page.messages);
      cursor = page.before;
      if (cursor === undefined) break;
      if (messages.length >= atLeast && cursor <= since) break;
    }
    const ordered = inLogOrder(messages.reverse());
    return cursor === undefined ? { messages: ordered } : { messages: ordered, before: cursor };
  }

  /** The newest `count` messages that `keep` accepts, oldest first (reading pages until found). */
  async newest(
    groupId: string,
    count: number,
    keep: (m: StoredMessage) => boolean,
  ): Promise<StoredMessage[]> {
    const found: StoredMessage[] = [];
    let cursor: number | undefined;
    do {
      const page = await this.client.history(groupId, {
        limit: Math.min(MAX_HISTORY_PAGE, Math.max(20, count)),
        ...(cursor === undefined ? {} : { before: cursor }),
      });
      for (const m of page.messages) if (found.length < count && keep(m)) found.push(m);
      cursor = page.before;
    } while (found.length < count && cursor !== undefined);
    return found.reverse();
  }

  /** The chat's last message, activity time and unread count (read once per change of the chat). */
  async glance(groupId: string): Promise<ChatGlance> {
    return (await this.glances([groupId])).get(groupId)!;
  }

  /**
   * `glance` of many chats: those not kept since their last change are read together (one
   * transaction for a list of hundreds of chats, when a GlanceReader was given).
   */
  async glances(groupIds: readonly string[]): Promise<Map<string, ChatGlance>> {
    const out = new Map<string, ChatGlance>();
    const missing = groupIds.filter((groupId) => {
      const kept = this.keptGlances.get(groupId);
      if (kept) out.set(groupId, kept);
      return !kept;
    });
    if (missing.length === 0) return out;
    const before = new Map(missing.map((groupId) => [groupId, this.changes.get(groupId) ?? 0]));
    const read = this.readGlances
      ? await this.readGlances(missing)
      : new Map(
          await Promise.all(missing.map(async (groupId) => [groupId, await this.readOne(groupId)] as const)),
        );
    await Promise.all(
      missing.map(async (groupId) => {
        const found = read.get(groupId) ?? { messages: [], more: false, unread: 0 };
        let lastText = found.messages.find((m) => m.roster === undefined);
        // A chat whose newest entries are all roster lines: look further (rare).
        if (!lastText && found.more)
          [lastText] = await this.newest(groupId, 1, (m) => m.roster === undefined);
        const glance: ChatGlance = {
          ...(lastText ? { lastText } : {}),
          lastAtMs: found.messages[0]?.sentAtMs ?? 0,
          unread: found.unread,
        };
        // Something changed while reading: this answer may be older than the change, so it is not kept.
        if ((this.changes.get(groupId) ?? 0) === before.get(groupId)) this.keptGlances.set(groupId, glance);
        out.set(groupId, glance);
      }),
    );
    return out;
  }

  /** One chat's newest entries and unread count, through the client (no GlanceReader). */
  private async readOne(groupId: string): Promise<ChatGlanceRead> {
    const [page, unread] = await Promise.all([
      this.client.history(groupId, { limit: 20 }),
      this.client.unreadCount(groupId),
    ]);
    return { messages: page.messages, more: page.before !== undefined, unread };
  }

  /** The position of the newest message of the chat the server placed (0: none). */
  async newestSeq(groupId: string): Promise<number> {
    let cursor: number | undefined;
    do {
      const page = await this.client.history(groupId, {
        limit: 50,
        ...(cursor === undefined ? {} : { before: cursor }),
      });
      // Sent messages are kept in the order written; one still queued has no position yet.
      const max = page.messages.reduce((top, m) => Math.max(top, m.seq), 0);
      if (max > 0) return max;
      cursor = page.before;
    } while (cursor !== undefined);
    return 0;
  }
}

/**
 * The device keeps messages in the order it wrote them, so a text written offline sits before what
 * arrived while it waited. Shown in the chat's order instead (the server's positions, as the other
 * people see it), texts still queued last; the sort is stable and within what was read at once, so
 * only a text that waited across a page boundary can stay where it was written.
 */
export function inLogOrder(messages: StoredMessage[]): StoredMessage[] {
  return messages
    .map((m, index) => ({ m, index }))
    .sort(
      (a, b) =>
        (a.m.seq || Number.MAX_SAFE_INTEGER) - (b.m.seq || Number.MAX_SAFE_INTEGER) || a.index - b.index,
    )
    .map(({ m }) => m);
}
