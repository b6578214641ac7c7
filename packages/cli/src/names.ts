import { decodeRosterEvent, type RosterEvent } from '@courier/protocol';
import type { CourierHttp } from '@courier/sdk';

/** Account ids shown as `@username` (or display name), looked up once each. */
export class Names {
  private readonly cache = new Map<string, string>();

  constructor(private readonly http: CourierHttp) {}

  async of(accountId: string): Promise<string> {
    const known = this.cache.get(accountId);
    if (known) return known;
    let name = accountId;
    try {
      const user = await this.http.lookup({ accountId });
      name = user.username ? `@${user.username}` : user.displayName || accountId;
    } catch {
      // Unknown (e.g. deleted) accounts keep their id.
    }
    this.cache.set(accountId, name);
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
