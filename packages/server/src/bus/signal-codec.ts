import type { BusSignal } from './ports.ts';

const isStringArray = (v: unknown): v is string[] =>
  Array.isArray(v) && v.every((x) => typeof x === 'string');
const isPairs = (v: unknown): v is [string, number][] =>
  Array.isArray(v) &&
  v.every(
    (p) => Array.isArray(p) && p.length === 2 && typeof p[0] === 'string' && Number.isSafeInteger(p[1]),
  );

/** Parses a signal from another node; anything malformed is dropped (returns undefined). */
export function parseSignal(text: string): BusSignal | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const s = value as Record<string, unknown>;
  switch (s.type) {
    case 'groups_appended':
      return isPairs(s.groups) ? { type: 'groups_appended', groups: s.groups } : undefined;
    case 'mailboxes_appended':
      return isPairs(s.devices) ? { type: 'mailboxes_appended', devices: s.devices } : undefined;
    case 'membership_changed':
      return typeof s.groupId === 'string' && isStringArray(s.accountIds)
        ? { type: 'membership_changed', groupId: s.groupId, accountIds: s.accountIds }
        : undefined;
    case 'devices_revoked':
      return isStringArray(s.deviceIds) ? { type: 'devices_revoked', deviceIds: s.deviceIds } : undefined;
    case 'channels_appended':
      return isPairs(s.channels) ? { type: 'channels_appended', channels: s.channels } : undefined;
    case 'channel_subscriptions_changed':
      return typeof s.channelId === 'string' && isStringArray(s.accountIds)
        ? { type: 'channel_subscriptions_changed', channelId: s.channelId, accountIds: s.accountIds }
        : undefined;
    default:
      return undefined;
  }
}
