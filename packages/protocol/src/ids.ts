/** Branded identifiers: a GroupId can never be passed where a DeviceId is expected. */
declare const brand: unique symbol;
export type Brand<T, B extends string> = T & { readonly [brand]: B };

export type AccountId = Brand<string, 'AccountId'>;
export type DeviceId = Brand<string, 'DeviceId'>;
export type GroupId = Brand<string, 'GroupId'>;
export type ChannelId = Brand<string, 'ChannelId'>;

const idPattern = /^[a-z]_[A-Za-z0-9_-]{16,40}$/;
const clientMsgIdPattern = /^[A-Za-z0-9_-]{1,64}$/;

const prefixes = { account: 'u', device: 'd', group: 'g', channel: 'c' } as const;
type IdKind = keyof typeof prefixes;
type IdOf<K extends IdKind> = K extends 'account'
  ? AccountId
  : K extends 'device'
    ? DeviceId
    : K extends 'channel'
      ? ChannelId
      : GroupId;

function base64url(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replaceAll('+', '-').replaceAll('/', '_').replaceAll('=', '');
}

/** A new random id with 128 bits of entropy, e.g. `g_3q2-7wEVR1Gz4Lk0pD8xgA`. */
export function newId<K extends IdKind>(kind: K, random: (n: number) => Uint8Array): IdOf<K> {
  return `${prefixes[kind]}_${base64url(random(16))}` as IdOf<K>;
}

export function isId<K extends IdKind>(kind: K, value: unknown): value is IdOf<K> {
  return typeof value === 'string' && idPattern.test(value) && value.startsWith(`${prefixes[kind]}_`);
}

export function isClientMsgId(value: unknown): value is string {
  return typeof value === 'string' && clientMsgIdPattern.test(value);
}
