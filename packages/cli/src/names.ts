import { CourierError, decodeRosterEvent, type RosterEvent } from '@courier/protocol';
import type { CourierHttp } from '@courier/sdk';

/**
 * People shown as `@username`, else their display name, else their number when they let you see it,
 * never by internal account id. Each is looked up once a minute at most, so that a long-running
 * `listen` or `chat` shows a name someone set or changed after it started.
 */
export class Names {
  private readonly cache = new Map<string, { name: string; atMs: number }>();

  constructor(
    private readonly http: Pick<CourierHttp, 'lookup'>,
    private readonly now: () => number = Date.now,
    private readonly maxAgeMs = 60_000,
  ) {}

  async of(accountId: string): Promise<string> {
    const known = this.cache.get(accountId);
    if (known && this.now() - known.atMs < this.maxAgeMs) return known.name;
    let name: string;
    try {
      const user = await this.http.lookup({ accountId });
      name = user.username
        ? `@${user.username}`
        : user.displayName || user.phone || 'someone with no name yet';
    } catch (error) {
      name =
        error instanceof CourierError && error.code === 'ACCOUNT_NOT_FOUND'
          ? 'a deleted account'
          : 'someone (their name could not be looked up)';
    }
    this.cache.set(accountId, { name, atMs: this.now() });
    return name;
  }

  /** "@alice added @bob, @carol" */
  async roster(payload: Uint8Array): Promise<string> {
    let event: RosterEvent;
    try {
      event = decodeRosterEvent(payload);
    } catch {
      return 'roster change (unreadable)';
    }
    return this.rosterEvent(event);
  }

  async rosterEvent(event: RosterEvent): Promise<string> {
    const actor = await this.of(event.actorAccountId);
    const list = async (ids: string[]) => (await Promise.all(ids.map((id) => this.of(id)))).join(', ');
    const subjects = await list(event.subjectAccountIds);
    switch (event.action) {
      case 'created': {
        if (!event.title) return `${actor} started the chat`;
        const others = await list(event.subjectAccountIds.filter((id) => id !== event.actorAccountId));
        return `${actor} created "${event.title}"${others ? ` with ${others}` : ''}`;
      }
      case 'added':
        return `${actor} added ${subjects}`;
      case 'removed':
        return `${actor} removed ${subjects}`;
      case 'left':
        return `${subjects} left`;
      case 'device_added':
        return `${actor} signed in on a new device`;
      case 'role_changed':
        return `${actor} made ${subjects} ${event.role === 'admin' ? 'an admin' : `a ${event.role}`}`;
    }
  }
}
