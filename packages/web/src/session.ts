/** The signed-in session, kept in this browser's localStorage so that a reload stays signed in. */
import type { AccountView } from '@courier/protocol';
import type { Session } from './worker/types.ts';

const KEY = 'courier-session';

export function loadSession(): Session | undefined {
  try {
    const value = JSON.parse(localStorage.getItem(KEY) ?? 'null') as Session | null;
    return value && typeof value.token === 'string' && typeof value.deviceId === 'string' ? value : undefined;
  } catch {
    return undefined;
  }
}

export function saveSession(session: Session | undefined): void {
  if (session) localStorage.setItem(KEY, JSON.stringify(session));
  else {
    localStorage.removeItem(KEY);
    localStorage.removeItem(ACCOUNT_KEY);
  }
}

const ACCOUNT_KEY = 'courier-account';

/** The account as last seen, for a reload without network. */
export function loadAccount(accountId: string): AccountView | undefined {
  try {
    const value = JSON.parse(localStorage.getItem(ACCOUNT_KEY) ?? 'null') as AccountView | null;
    return value?.accountId === accountId ? value : undefined;
  } catch {
    return undefined;
  }
}

export function saveAccount(account: AccountView): void {
  localStorage.setItem(ACCOUNT_KEY, JSON.stringify(account));
}
