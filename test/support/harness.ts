import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  type Clock,
  type ConfigInput,
  type CourierApp,
  type PolicyVersion,
  buildApp,
  parseConfig,
  type SmsSender,
} from '@courier/server';
import { opaqueApplicationMessage, opaqueBody } from '@courier/mls';
import {
  type Accepted,
  CourierConnection,
  CourierHttp,
  MemoryClientStore,
  type ConnectionOptions,
} from '@courier/sdk';
import type { EntryFrame } from '@courier/protocol';
import pino from 'pino';
import { createTestDatabase } from './postgres.ts';

/** Captures the codes the server "texts", through the same interface as a real gateway. */
export class CapturingSms implements SmsSender {
  readonly sent: { to: string; text: string }[] = [];
  async send(to: string, text: string): Promise<void> {
    this.sent.push({ to, text });
  }
  lastCode(to: string): string {
    const message = [...this.sent].reverse().find((m) => m.to === to);
    const code = message?.text.match(/\b(\d{4,10})\b/)?.[1];
    if (!code) throw new Error(`no code was sent to ${to}`);
    return code;
  }
}

/** A clock that tests move by hand. */
export class unsafeTestingClock implements Clock {
  constructor(public ms = Date.UTC(2026, 0, 1)) {}
  now(): number {
    return this.ms;
  }
  advance(ms: number): void {
    this.ms += ms;
  }
}

export type StorageKind = 'sqlite' | 'postgres';

export interface TestServer {
  app: CourierApp;
  url: string;
  sms: CapturingSms;
  register(phone: string, deviceName?: string): Promise<TestUser>;
  login(phone: string, deviceName?: string): Promise<TestUser>;
  close(): Promise<void>;
}

export interface TestUser {
  phone: string;
  accountId: string;
  deviceId: string;
  token: string;
  http: CourierHttp;
}

let phoneCounter = 0;
/** A fresh, valid London number (+44 20 7xxx xxxx) per call. */
export function nextPhone(): string {
  phoneCounter += 1;
  return `+44207${String((process.pid * 7919 + phoneCounter) % 10_000_000).padStart(7, '0')}`;
}

export interface TestServerOptions {
  storage?: StorageKind;
  /** Reuse an existing database (e.g. a second node on the same PostgreSQL). */
  databaseUrl?: string;
  sqlitePath?: string;
  /** How long a SQLite statement waits for another process's lock (storage.busyWaitMs). */
  sqliteBusyWaitMs?: number;
  config?: Omit<ConfigInput, 'storage'>;
  clock?: Clock;
  sms?: CapturingSms;
  policies?: readonly PolicyVersion[];
  /** What the server reads credentials from (`…Env` config keys), as main.ts passes process.env. */
  env?: Readonly<Record<string, string>>;
}

/** Builds and starts a real server on 127.0.0.1 with an ephemeral port. */
export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const cleanups: (() => Promise<void> | void)[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'courier-test-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  let storage: ConfigInput['storage'];
  if ((options.storage ?? 'sqlite') === 'postgres') {
    let url = options.databaseUrl;
    if (!url) {
      const db = await createTestDatabase();
      url = db.url;
      cleanups.push(db.drop);
    }
    storage = { kind: 'postgres', url, poolSize: 4 };
  } else {
    storage = {
      kind: 'sqlite',
      path: options.sqlitePath ?? join(dir, 'courier.db'),
      ...(options.sqliteBusyWaitMs === undefined ? {} : { busyWaitMs: options.sqliteBusyWaitMs }),
    };
  }
  const sms = options.sms ?? new CapturingSms();
  const config = parseConfig({
    logLevel: 'silent',
    port: 0,
    // Keys, witness and exports live beside a database the test names (a restart finds them).
    dataDir: options.sqlitePath ? dirname(options.sqlitePath) : dir,
    ...options.config,
    storage,
    auth: {
      requestsPerIp: 100_000,
      codesPerPhone: 1000,
      codesPerPhonePerSource: 1000,
      smsPerWindow: 1_000_000,
      ...options.config?.auth,
    },
    // Scenarios about delivery, MLS and faults put strangers in groups: their test users let anyone
    // add them (a deployment choice). Tests of consent (test/consent.test.ts) pass `consent` and get
    // the policy's default, "contacts".
    consent: options.config?.consent ?? { defaultGroupAdd: 'everybody' },
  });
  const app = await buildApp(config, {
    clock: options.clock ?? { now: () => Date.now() },
    random: (n) => randomBytes(n),
    logger: pino({ level: process.env.COURIER_TEST_LOG ?? 'silent' }),
    sms,
    ...(options.policies ? { policies: options.policies } : {}),
    ...(options.env ? { env: options.env } : {}),
  });
  const url = await app.http.listen({ host: '127.0.0.1', port: 0 });
  const verify = async (
    phone: string,
    intent: 'register' | 'login',
    deviceName: string,
  ): Promise<TestUser> => {
    const http = new CourierHttp(url);
    await http.requestCode(phone, intent);
    const { version } = await http.privacyPolicy();
    const reply = await http.verifyCode(phone, sms.lastCode(phone), intent, deviceName, version);
    http.setToken(reply.token);
    return { phone, accountId: reply.accountId, deviceId: reply.deviceId, token: reply.token, http };
  };
  return {
    app,
    url,
    sms,
    register: (phone, deviceName = 'test') => verify(phone, 'register', deviceName),
    login: (phone, deviceName = 'test-2') => verify(phone, 'login', deviceName),
    close: async () => {
      await app.close();
      for (const cleanup of cleanups.reverse()) await cleanup();
    },
  };
}

/**
 * A connection for delivery tests: what it sends is wrapped in the shape of an MLS application message
 * for the group (the server accepts nothing else), so tests can send and recognise plain test bodies.
 * End-to-end encryption itself is tested with SecureClient (support/secure.ts).
 */
export class OpaqueConnection extends CourierConnection {
  override send(groupId: string, payload: Uint8Array, clientMsgId?: string): Promise<Accepted> {
    return super.send(groupId, opaqueApplicationMessage(groupId, payload), clientMsgId);
  }
}

/** The test body of a message entry sent by an OpaqueConnection. */
export function bodyOf(entry: EntryFrame): EntryFrame {
  return entry.kind === 'message' ? { ...entry, payload: opaqueBody(entry.payload) } : entry;
}

/** A connected device that records every entry it processes. */
export interface TestDevice {
  connection: CourierConnection;
  store: MemoryClientStore;
  entries: EntryFrame[];
  /** Resolves once `count` message entries (not roster entries) have arrived. */
  waitForMessages(count: number, timeoutMs?: number): Promise<EntryFrame[]>;
  messages(): EntryFrame[];
}

export async function connectDevice(
  url: string,
  user: Pick<TestUser, 'token'>,
  options: Partial<ConnectionOptions> & { store?: MemoryClientStore } = {},
): Promise<TestDevice> {
  const store = options.store ?? new MemoryClientStore();
  const entries: EntryFrame[] = [];
  let waiters: (() => void)[] = [];
  const connection = new OpaqueConnection({
    url,
    token: user.token,
    store,
    reconnectBaseMs: 20,
    reconnectCapMs: 200,
    ...options,
    onEntry: (entry) => {
      entries.push(bodyOf(entry));
      for (const w of waiters) w();
    },
  });
  const messages = () => entries.filter((e) => e.kind === 'message');
  connection.start();
  await connection.ready();
  return {
    connection,
    store,
    entries,
    messages,
    waitForMessages: (count, timeoutMs = 10_000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          if (messages().length >= count) {
            waiters = waiters.filter((w) => w !== check);
            clearTimeout(timer);
            resolve(messages());
          }
        };
        const timer = setTimeout(() => {
          waiters = waiters.filter((w) => w !== check);
          reject(new Error(`timed out waiting for ${count} messages; have ${messages().length}`));
        }, timeoutMs);
        waiters.push(check);
        check();
      }),
  };
}

export const text = (s: string) => new TextEncoder().encode(s);
export const untext = (b: Uint8Array) => new TextDecoder().decode(b);
