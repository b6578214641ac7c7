/**
 * The person's Courier device inside the app's Web Worker: every HTTP call, the connection and all
 * MLS work go through the SDK here, never on the page's thread. Its state lives in IndexedDB (the
 * SDK's store and a small AppStore), so a reload finds the keys, chats and messages again. The page
 * asks for views (chat list, a page of messages, a chat's members) and is told when they changed.
 */
import { type MessageActionRequest, marksOf, runMessageAction } from './message-actions.ts';
import {
  type AnyContent,
  CourierHttp,
  IndexedDbMlsStore,
  messageStatus,
  randomClientMsgId,
  receiptsOffText,
  SecureClient,
  StickerApi,
  type StickerRef,
  type StoredMessage,
  type WebSocketLike,
} from '@courier/sdk';
import {
  CourierError,
  endsSession,
  type DeleteAccountReply,
  type DeviceView,
  type ExportJobView,
  type FileReportBody,
  type GroupView,
  type PrivacyPolicyView,
  type PrivacySettingsView,
  REPORT_LIMITS,
  type ReportReason,
  type RequestCodeReply,
  type RequestView,
  type RosterEvent,
  type StickerPackView,
  type StickerView,
  type UserView,
} from '@courier/protocol';
import type { ChannelTarget } from '../ui/channel-link.ts';
import { AppStore } from './app-store.ts';
import { ChannelStore } from './channel-store.ts';
import { DeviceChannels } from './device-channels.ts';
import { ChatHistory } from './chat-history.ts';
import { DeviceMedia, mediaInfo, mediaLabel } from './device-media.ts';
import { browserFailover, pinnedKeys } from './endpoint-failover.ts';
import type {
  BlockRow,
  ChannelAdminRow,
  ChannelInviteRow,
  ChannelPostPage,
  ChannelPreview,
  ChannelSummary,
  ChatInfo,
  ChatSummary,
  DeviceEvent,
  MediaMeta,
  PendingUploadView,
  MemberRow,
  MessagePage,
  MessageRow,
  ReportCandidate,
  SendState,
  ReportPreview,
  RequestRow,
  Session,
  TransferProgress,
} from './types.ts';

const DEVICE_NAME = 'Web browser';

/** A promise settled from outside (`resolve`), once. */
function signal(): { promise: Promise<void>; resolve: () => void } {
  let resolve = () => {};
  const promise = new Promise<void>((settle) => {
    resolve = settle;
  });
  return { promise, resolve };
}

/**
 * A chat's history and unread count read from the device's store as the SDK's client reads them
 * (sent messages with their state from receipts), for before the client is up.
 */
function storeHistory(
  store: IndexedDbMlsStore,
  readReceipts: () => boolean,
): Pick<SecureClient, 'history' | 'unreadCount'> {
  return {
    async history(groupId, page) {
      const [found, state] = await Promise.all([store.history(groupId, page), store.chatState(groupId)]);
      return {
        ...found,
        messages: found.messages.map((m) =>
          m.outgoing ? { ...m, status: messageStatus(m.seq, state, readReceipts()) } : m,
        ),
      };
    },
    unreadCount: (groupId) => store.unreadCount(groupId),
  };
}
/** Messages per page of a chat's history. */
export const PAGE_SIZE = 50;
/** The client's start-up waits at most this long for the page's first chat list (see `firstList`). */
const FIRST_LIST_WAIT_MS = 5_000;
/** At most one notice of changed chats and messages to the page per this long. */
const NEWS_INTERVAL_MS = 150;
/** At most this many names per `memberNames` call: the rows of a list in view, never a whole roster. */
export const MEMBER_NAMES_MAX = 200;
/** A notice of a roster change names at most this many people and counts the others. */
const NOTICE_NAMES_MAX = 5;

/** The device's stores, open: enough to show the chats and their history (no connection needed). */
interface Opened {
  session: Session;
  store: IndexedDbMlsStore;
  app: AppStore;
  history: ChatHistory;
}

interface Running extends Opened {
  client: SecureClient;
  /** Broadcast channels (device-channels.ts), their keys and posts in channel-store.ts. */
  channels: DeviceChannels;
  channelStore: ChannelStore;
}

export class Device {
  private readonly http: CourierHttp;
  private running: Running | undefined;
  /** The client `start` is setting up (settled once it runs or failed to). */
  private starting: Promise<void> | undefined;
  /** The stores being opened (or open) by `start`, before the client is up. */
  private opening: Promise<Opened> | undefined;
  /** The stores `opening` opened, once open. */
  private stores: Opened | undefined;
  /**
   * Settles once the page's first chat list of this start was answered: the client's start-up (keys,
   * connecting, a pass over every chat) waits for it, so that it does not compete with that read.
   */
  private firstList = signal();
  private listener: ((event: DeviceEvent) => void) | undefined;
  /** Chats and messages changed since the page was last told (see `emit`). */
  private news: { groups: Set<string>; chats: boolean; timer: ReturnType<typeof setTimeout> | undefined } = {
    groups: new Set(),
    chats: false,
    timer: undefined,
  };
  private groups: GroupView[] = [];
  /** Group invitations waiting for me, as the server said when the chats last changed. */
  private invitations: RequestView[] = [];
  /** The server answered the chat list once this session (an empty list is then an answer, not a gap). */
  private groupsLoaded = false;
  private readonly names = new Map<string, UserView>();
  private readonly asking = new Map<string, Promise<UserView | undefined>>();
  private readonly peers = new Map<string, string>();
  /** Looks for texts leaving the outbox while some wait (see watchOutbox). */
  private outboxWatch: ReturnType<typeof setInterval> | undefined;
  /** The connection's open sockets, closed at once when the browser says it went offline. */
  private readonly sockets = new Set<WebSocket>();
  /** Photos, videos, voice notes and files: upload, download and streaming (device-media.ts). */
  private readonly media = new DeviceMedia({
    endpoint: () => ({ baseUrl: this.origin, token: this.live.session.token }),
    deviceId: () => this.live.session.deviceId,
    message: (groupId, ref) => this.live.store.message(groupId, ref),
    sendFile: async (groupId, file, clientMsgId) => {
      await this.live.client.sendFile(groupId, file, clientMsgId);
      this.changed(groupId);
    },
    channelFile: (channelId, postId) => this.live.channels.file(channelId, postId),
    postChannelFile: (channelId, source, describe, options) =>
      this.live.channels.postFile(channelId, source, describe, options),
  });

  /** The client that started (pending uploads go on once it has, and again when it reconnects). */
  private uploadsFrom: SecureClient | undefined;

  /** The operator's list-signing keys the page carries: with them the connection fails over. */
  private endpointKeys: Uint8Array[] = [];

  constructor(private readonly origin: string) {
    this.http = new CourierHttp(origin);
  }

  /** The pinned list-signing keys from the page (base64); set before `start`. Malformed: no failover. */
  setEndpointKeys(keys: string[]): void {
    this.endpointKeys = pinnedKeys(keys);
  }

  private openSocket(url: string): WebSocketLike {
    const socket = new WebSocket(url);
    this.sockets.add(socket);
    socket.addEventListener('close', () => this.sockets.delete(socket));
    // The browser's WebSocket is what the SDK's WebSocketLike describes (its send takes any view).
    return socket as unknown as WebSocketLike;
  }

  onEvent(listener: (event: DeviceEvent) => void): void {
    this.listener = listener;
  }

  /**
   * Tells the page. "Ask again" news of chats and messages is gathered for a moment and told once
   * per chat (a backlog of thousands of messages is a few notices, not one per message, each of
   * which made the page read the chat list and the open chat again); the first goes out at once.
   */
  private emit(event: DeviceEvent): void {
    if (event.kind !== 'chats' && event.kind !== 'messages') {
      this.listener?.(event);
      return;
    }
    if (event.kind === 'chats') this.news.chats = true;
    else this.news.groups.add(event.groupId);
    if (this.news.timer === undefined) this.tellNews();
  }

  private tellNews(): void {
    const { groups, chats } = this.news;
    this.news.groups = new Set();
    this.news.chats = false;
    this.news.timer = undefined;
    if (groups.size === 0 && !chats) return;
    for (const groupId of groups) this.listener?.({ kind: 'messages', groupId });
    if (chats) this.listener?.({ kind: 'chats' });
    this.news.timer = setTimeout(() => this.tellNews(), NEWS_INTERVAL_MS);
  }

  private get live(): Running {
    if (!this.running) throw new CourierError('AUTH_INVALID_TOKEN', { message: 'You are signed out.' });
    return this.running;
  }

  // Sign-in ---------------------------------------------------------------------------------------

  requestCode(phone: string): Promise<RequestCodeReply> {
    return this.http.requestCode(phone);
  }

  async verify(
    phone: string,
    verificationId: string,
    code: string,
    acceptPolicyVersion?: string,
  ): Promise<Session> {
    const reply = await this.http.verifyCode(
      phone,
      code,
      undefined,
      DEVICE_NAME,
      acceptPolicyVersion,
      verificationId,
    );
    return { token: reply.token, accountId: reply.accountId, deviceId: reply.deviceId, phone };
  }

  policy(): Promise<PrivacyPolicyView> {
    return this.http.privacyPolicy();
  }

  /**
   * Opens the device's stores and starts connecting; resolves once the client is set up (not when
   * online). The chat list and history read from the stores as soon as they are open, without
   * waiting for the endpoint list, the connection or the MLS start-up (see `opened`).
   */
  start(session: Session, options: { takeOver?: boolean } = {}): Promise<void> {
    if (this.running?.session.token === session.token && !options.takeOver) return Promise.resolve();
    const opening: Promise<Opened> = this.open(session).then((opened) => {
      if (this.opening === opening) this.stores = opened;
      return opened;
    });
    this.opening = opening;
    this.firstList.resolve();
    this.firstList = signal();
    const started = this.startClient(opening);
    this.starting = started.catch(() => {});
    return started;
  }

  /**
   * Settles once the client that `start` is setting up runs (or failed to): calls that need it wait
   * for this (courier-worker.ts), while the reads the page makes at once (`READS_FROM_STORES`) answer
   * from the stores. A page that shows the chats before the client runs would otherwise see its first
   * other call refused as "signed out".
   */
  clientStarted(): Promise<void> {
    return this.starting ?? Promise.resolve();
  }

  private async open(session: Session): Promise<Opened> {
    await this.stop();
    this.http.setToken(session.token);
    const store = await IndexedDbMlsStore.open(`courier-device-${session.deviceId}`);
    const app = await AppStore.open(session.deviceId);
    const history = new ChatHistory(
      storeHistory(store, () => app.readReceipts()),
      (groupIds) => store.glances(groupIds),
    );
    return { session, store, app, history };
  }

  /** The open stores: of the running device, or of the one starting (its stores open first). */
  private async opened(): Promise<Opened> {
    if (this.running) return this.running;
    if (this.opening) return this.opening;
    throw new CourierError('AUTH_INVALID_TOKEN', { message: 'You are signed out.' });
  }

  private async startClient(opening: Promise<Opened>): Promise<void> {
    const { session, store, app, history } = await opening;
    if (this.opening !== opening) {
      // Stopped (or started again) while the stores opened.
      store.close();
      app.close();
      return;
    }
    // With pinned keys, across the signed endpoint list (else to this origin only).
    const failover = await browserFailover({
      origin: this.origin,
      token: session.token,
      keys: this.endpointKeys,
      app,
      openSocket: (url) => this.openSocket(url),
    });
    const client: SecureClient = new SecureClient({
      url: this.origin,
      token: session.token,
      accountId: session.accountId,
      deviceId: session.deviceId,
      store,
      keyPackageStock: 10,
      // Read receipts both ways as the person chose in Settings (on unless turned off).
      readReceipts: app.readReceipts(),
      // No receipt in a message request: it would tell a stranger the account is there and reading.
      receiptsAllowed: (groupId) => this.receiptsAllowed(groupId),
      createSocket: (url) => this.openSocket(url),
      ...(failover ? { failover } : {}),
    });
    if (this.opening !== opening) {
      store.close();
      app.close();
      return;
    }
    const channelStore = await ChannelStore.open(session.deviceId);
    const channels = new DeviceChannels({
      http: client.http,
      connection: client.connection,
      secure: client,
      endpoint: () => ({ baseUrl: this.origin, token: session.token }),
      store: channelStore,
      origin: this.origin,
      emit: (event) => this.emit(event),
      find: (handle) => this.find(handle),
    });
    this.running = { session, client, store, app, history, channels, channelStore };
    client.on('message', (message) => this.remember(message));
    // Sent messages moved on (stored, delivered, read), or the person read the chat on another device.
    client.on('status', ({ groupId }) => {
      history.changed(groupId);
      this.emit({ kind: 'messages', groupId });
    });
    client.on('unread', ({ groupId }) => {
      history.changed(groupId);
      this.emit({ kind: 'chats' });
    });
    client.on('roster', ({ groupId }) => void this.refreshChat(groupId));
    client.on('updated', ({ message }) => this.changed(message.groupId));
    client.on('joined', ({ groupId }) => void this.refreshChat(groupId));
    client.on('removed', ({ groupId }) => void this.refreshChat(groupId));
    // Removed from a chat (or left it elsewhere): the server stops delivering it and says so.
    client.connection.on('group_left', ({ groupId }) => void this.refreshChat(groupId));
    client.connection.on('group_joined', ({ groupId }) => void this.refreshChat(groupId));
    client.on('state', (state) => {
      this.emit({ kind: 'connection', state });
      // Back online after a while: uploads that gave up meanwhile go on (running ones are left alone).
      if (state === 'ready' && this.uploadsFrom === client) void this.media.resumePending().catch(() => {});
    });
    client.connection.on('endpoint', (endpoint) => failover?.remember(endpoint.id));
    client.on('key_change', (change) => {
      void app.setKeysChanged(change.accountId, true).then(() => {
        this.emit({ kind: 'key_change', accountId: change.accountId });
      });
    });
    client.on('fatal', (error) => {
      // A device stopped meanwhile (its account deleted or signed out from this page) has nothing to
      // tell: the page already knows, and a late "signed out" would overwrite what it shows.
      if (this.running?.client !== client) return;
      // Another tab (or window) of this browser took the device's connection over: this one steps
      // back and offers to take it again. A revoked or invalid session signs out, and the device's
      // data goes (the next sign-in is a new device; these keys are useless).
      if (error.code === 'AUTH_CONNECTION_REPLACED') this.emit({ kind: 'connection', state: 'replaced' });
      else {
        this.emit({ kind: 'signed_out', code: error.code });
        void this.forget();
      }
    });
    void this.connect(client);
    // Texts a previous run left queued are sent once connected: the page is told when they leave.
    this.watchOutbox();
  }

  /**
   * Sets up the device's keys and connects, in the background: the chat list shows what the device
   * holds meanwhile. While the server cannot be reached (a reload while offline) it tries again; a
   * refused session signs out; any other failure is reported.
   */
  private async connect(client: SecureClient): Promise<void> {
    // A page that never asks for the chat list does not hold the start-up back for long.
    await Promise.race([
      this.firstList.promise,
      new Promise((resolve) => setTimeout(resolve, FIRST_LIST_WAIT_MS)),
    ]);
    for (let attempt = 0; this.running?.client === client; attempt++) {
      try {
        await client.start();
        this.uploadsFrom = client;
        // Files an earlier run (before a reload or a browser restart) was still sending go on.
        void this.media.resumePending().catch(() => {});
        await this.loadGroups();
        return;
      } catch (error) {
        const failure =
          error instanceof CourierError ? error : new CourierError('INTERNAL', { cause: error });
        if (this.running?.client !== client) return;
        if (endsSession(failure)) {
          this.emit({ kind: 'signed_out', code: failure.code });
          await this.forget();
          return;
        }
        // Rate limits and too many sockets pass, like an unreachable server: try again later.
        if (failure.status < 500 && failure.status !== 429) {
          this.emit({ kind: 'problem', message: failure.message });
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, Math.min(10_000, 500 * 2 ** attempt)));
      }
    }
  }

  async stop(): Promise<void> {
    const running = this.running;
    this.running = undefined;
    this.opening = undefined;
    this.stores = undefined;
    this.groups = [];
    this.invitations = [];
    this.groupsLoaded = false;
    this.peers.clear();
    clearInterval(this.outboxWatch);
    this.outboxWatch = undefined;
    this.media.stop();
    if (!running) return;
    running.channels.stop();
    await running.client.stop();
    await running.store.flushed();
    running.store.close();
    running.app.close();
    await running.channelStore.flushed();
    running.channelStore.close();
  }

  /**
   * The page heard the browser go offline or online. An open WebSocket can outlive the network (no
   * frame tells it otherwise until the watchdog notices), so going offline closes it now: the
   * connection shows as connecting, sends wait in the outbox, and it reconnects when it can.
   */
  network(online: boolean): void {
    if (online) return;
    for (const socket of this.sockets) socket.close(1000, 'offline');
  }

  connectionState(): string {
    return this.running?.client.connection.state ?? 'stopped';
  }

  // Account ---------------------------------------------------------------------------------------

  me() {
    return this.http.me();
  }

  acceptPolicy(version: string): Promise<void> {
    return this.http.acceptPolicy(version);
  }

  setProfile(displayName: string, username: string | null) {
    return (async () => {
      if (displayName.trim() !== '') await this.http.setDisplayName(displayName.trim());
      return this.http.setUsername(username === null || username.trim() === '' ? null : username.trim());
    })();
  }

  privacySettings(): Promise<PrivacySettingsView> {
    return this.http.privacySettings();
  }

  updatePrivacySettings(change: Partial<PrivacySettingsView>): Promise<PrivacySettingsView> {
    return this.http.updatePrivacySettings(change);
  }

  startExport(): Promise<ExportJobView> {
    return this.http.startExport();
  }

  exportJob(jobId: string): Promise<ExportJobView> {
    return this.http.exportJob(jobId);
  }

  exportJobs(): Promise<ExportJobView[]> {
    return this.http.exportJobs();
  }

  downloadExport(jobId: string): Promise<Uint8Array> {
    return this.http.downloadExport(jobId);
  }

  async deleteAccount(confirmPhone: string): Promise<DeleteAccountReply> {
    const reply = await this.http.deleteAccount(confirmPhone);
    await this.forget();
    return reply;
  }

  async logout(): Promise<void> {
    try {
      await this.http.logout();
    } finally {
      await this.forget();
    }
  }

  /** Stops and deletes this device's local data (signed out or account deleted: the keys are useless). */
  private async forget(): Promise<void> {
    const deviceId = this.running?.session.deviceId;
    await this.stop();
    this.http.setToken(undefined);
    if (deviceId === undefined) return;
    for (const name of [
      `courier-device-${deviceId}`,
      `courier-app-${deviceId}`,
      `courier-channels-${deviceId}`,
      `courier-uploads-${deviceId}`,
    ])
      indexedDB.deleteDatabase(name);
  }

  devices(): Promise<DeviceView[]> {
    return this.http.devices();
  }

  revokeDevice(deviceId: string): Promise<void> {
    return this.http.revokeDevice(deviceId);
  }

  // People ----------------------------------------------------------------------------------------

  /** Finds a person by `@username` or phone number (as their privacy settings allow). */
  async find(handle: string): Promise<UserView> {
    const text = handle.trim();
    const user = text.startsWith('+')
      ? await this.http.lookup({ phone: text.replace(/[\s()-]/g, '') })
      : await this.http.lookup({ username: text.replace(/^@/, '') });
    this.names.set(user.accountId, user);
    await this.live.app.savePerson(user, Date.now());
    return user;
  }

  /**
   * A person as this account may see them: asked once per session, kept on the device so that the
   * chat list needs no request per chat on the next load (and shows names offline).
   */
  private async person(accountId: string): Promise<UserView | undefined> {
    const known = this.names.get(accountId);
    if (known) return known;
    const kept = (this.running ?? this.stores)?.app.person(accountId);
    if (kept?.user) {
      this.names.set(accountId, kept.user);
      // Names change rarely: asked again at most once an hour, not on every load.
      if (Date.now() - kept.fetchedAtMs > 3_600_000) void this.refreshPerson(accountId);
      return kept.user;
    }
    // One request per person at a time, however many rows and notices ask for them at once.
    const asking = this.asking.get(accountId);
    if (asking) return asking;
    const asked = this.refreshPerson(accountId).finally(() => this.asking.delete(accountId));
    this.asking.set(accountId, asked);
    return asked;
  }

  private async refreshPerson(accountId: string): Promise<UserView | undefined> {
    try {
      const user = await this.http.lookup({ accountId });
      const before = this.names.get(accountId);
      this.names.set(accountId, user);
      await (this.running ?? this.stores)?.app.savePerson(user, Date.now());
      if (before && (before.displayName !== user.displayName || before.username !== user.username))
        this.emit({ kind: 'chats' });
      return user;
    } catch {
      return undefined;
    }
  }

  /** A person's name as `nameOf` gives it, when this device knows it without asking the server. */
  private knownName(accountId: string): string | undefined {
    const user = this.names.get(accountId) ?? (this.running ?? this.stores)?.app.person(accountId)?.user;
    if (!user) return undefined;
    if (!this.names.has(accountId)) this.names.set(accountId, user);
    return user.displayName || (user.username ? `@${user.username}` : 'Someone');
  }

  /**
   * The names of some members (the rows of a member list in view), looked up as `nameOf` does:
   * those known already cost nothing, the others one lookup each, kept for next time.
   */
  async memberNames(accountIds: readonly string[]): Promise<Record<string, string>> {
    if (accountIds.length > MEMBER_NAMES_MAX)
      throw new CourierError('REQ_INVALID', {
        message: `Ask for at most ${MEMBER_NAMES_MAX} names at once (the rows in view).`,
      });
    const names = await Promise.all(accountIds.map((id) => this.nameOf(id)));
    return Object.fromEntries(accountIds.map((id, i) => [id, names[i]!]));
  }

  private async nameOf(accountId: string): Promise<string> {
    if (accountId === (this.running ?? this.stores)?.session.accountId) return 'You';
    const user = await this.person(accountId);
    if (!user) return 'Someone';
    return user.displayName || (user.username ? `@${user.username}` : 'Someone');
  }

  // Chats -----------------------------------------------------------------------------------------

  private async loadGroups(): Promise<GroupView[]> {
    const { app } = await this.opened();
    const [groups, requests] = await Promise.all([this.http.groups(), this.http.requests()]);
    this.groups = groups;
    this.invitations = requests.filter((r) => r.type === 'invitation');
    this.groupsLoaded = true;
    void app.saveGroups(this.groups).catch(() => {});
    this.emit({ kind: 'chats' });
    return this.groups;
  }

  private async refreshChat(groupId: string): Promise<void> {
    this.running?.history.changed(groupId);
    try {
      await this.loadGroups();
    } catch {
      // Offline: the list is refreshed on the next change.
    }
    this.emit({ kind: 'messages', groupId });
  }

  private remember(message: StoredMessage): void {
    this.running?.history.changed(message.groupId);
    if (!this.groups.some((g) => g.groupId === message.groupId)) void this.loadGroups().catch(() => {});
    this.emit({ kind: 'messages', groupId: message.groupId });
    this.emit({ kind: 'chats' });
  }

  /** Receipts only in chats the person took part in: never in a message request (nor an unknown chat). */
  private async receiptsAllowed(groupId: string): Promise<boolean> {
    const find = () =>
      this.groups.find((g) => g.groupId === groupId) ??
      this.running?.app.groups().find((g) => g.groupId === groupId);
    let group = find();
    if (!group) {
      await this.loadGroups().catch(() => {});
      group = find();
    }
    return group !== undefined && group.request !== true;
  }

  private async peerOf(group: GroupView): Promise<string | undefined> {
    if (group.kind !== 'direct') return undefined;
    const { app, session } = await this.opened();
    const known = this.peers.get(group.groupId) ?? app.peer(group.groupId);
    if (known) return known;
    try {
      const detail = await this.http.group(group.groupId);
      const peer = detail.members.find((m) => m.accountId !== session.accountId)?.accountId;
      if (peer) {
        this.peers.set(group.groupId, peer);
        await app.savePeer(group.groupId, peer);
      }
      return peer;
    } catch {
      return undefined;
    }
  }

  /** The chat list, most recent activity first. */
  async chats(): Promise<ChatSummary[]> {
    const { store, app, history } = await this.opened();
    // What the server said last time, until it answers now (offline, or still connecting).
    if (this.groups.length === 0) this.groups = app.groups();
    // Asked once; loadGroups tells the page, which asks again, so an empty answer must not ask again.
    if (this.groups.length === 0 && !this.groupsLoaded) await this.loadGroups().catch(() => {});
    const mine = new Set(await store.groupIds());
    // The last message and unread count of every chat in one read of the store.
    const glances = await history.glances(this.groups.map((g) => g.groupId).filter((id) => mine.has(id)));
    const summaries = await Promise.all(
      this.groups.map(async (group): Promise<ChatSummary> => {
        const glance = glances.get(group.groupId);
        const last = glance?.lastText;
        const peer = await this.peerOf(group);
        const title = peer ? await this.nameOf(peer) : group.title;
        return {
          groupId: group.groupId,
          kind: group.kind,
          ...(group.request ? { request: true as const } : {}),
          title,
          ...(peer ? { peerAccountId: peer } : {}),
          lastText: last
            ? `${last.outgoing ? 'You: ' : ''}${last.file ? mediaLabel(last.file) : last.sticker ? `Sticker ${last.sticker.emoji}` : last.text}`
            : '',
          lastAtMs: Math.max(glance?.lastAtMs ?? 0, group.createdAtMs),
          unread: glance?.unread ?? 0,
          memberCount: group.memberCount,
          myRole: group.myRole,
          ready: mine.has(group.groupId),
          keysChanged: peer ? app.keysChanged(peer) : false,
          verified: peer ? app.verified(peer) : false,
        };
      }),
    );
    this.firstList.resolve();
    return summaries.sort((a, b) => b.lastAtMs - a.lastAtMs);
  }

  /**
   * A page of a chat's history, oldest first: the newest `limit` messages, or with `before` (a page's
   * cursor) the ones older than that page. Reads only the page from the device's store.
   */
  async page(groupId: string, before?: number, limit = PAGE_SIZE): Promise<MessagePage> {
    return this.rows(await (await this.opened()).history.older(groupId, before, limit));
  }

  /**
   * The newest messages of a chat down to `since` (the cursor of the oldest page a view shows; 0 for
   * the whole chat), at least `atLeast`: what the view had, again, with what changed and came since.
   */
  async pageSince(groupId: string, since: number, atLeast = PAGE_SIZE): Promise<MessagePage> {
    return this.rows(await (await this.opened()).history.since(groupId, since, atLeast));
  }

  private async rows(run: { messages: StoredMessage[]; before?: number }): Promise<MessagePage> {
    const { store, session } = await this.opened();
    const outbox = new Set(store.outbox().map((item) => item.clientMsgId));
    const rows = await Promise.all(run.messages.map((m) => this.row(m, outbox, session.accountId)));
    return run.before === undefined ? { rows, more: false } : { rows, before: run.before, more: true };
  }

  private async row(m: StoredMessage, outbox: Set<string>, me: string): Promise<MessageRow> {
    const base = {
      key: `${m.senderDeviceId}:${m.clientMsgId}`,
      seq: m.seq,
      sentAtMs: m.sentAtMs,
      outgoing: m.outgoing,
      senderName: await this.nameOf(m.senderAccountId),
    };
    if (m.roster) return { ...base, text: await this.describe(m.roster), notice: true };
    return {
      ...base,
      text: m.text,
      ...(m.file ? { file: mediaInfo(m.file) } : {}),
      ...(m.sticker ? { sticker: m.sticker } : {}),
      ...(m.outgoing ? { state: this.stateOf(m, outbox) } : {}),
      actions: await marksOf(m, me, (id) => this.nameOf(id)),
    };
  }

  /**
   * A sent message's state as the SDK tells it from receipts. One the SDK still holds at no position
   * but that left the outbox (sent again after a reload, its position not learnt yet) is stored.
   */
  private stateOf(m: StoredMessage, outbox: Set<string>): SendState {
    if (outbox.has(m.clientMsgId)) return 'queued';
    return m.status === undefined || m.status === 'queued' ? 'stored' : m.status;
  }

  /**
   * Reply, forward, edit, delete for everyone or react (worker/message-actions.ts); answers the
   * notice to show (a deletion's: it cannot be guaranteed on modified clients).
   */
  async messageAction(groupId: string, request: MessageActionRequest): Promise<string> {
    const notice = await runMessageAction(this.live.client, groupId, request);
    this.changed(groupId);
    if (request.kind === 'forward') this.changed(request.toGroupId);
    return notice;
  }

  /** A chat's messages changed in the store: read them again. */
  private changed(groupId: string): void {
    this.live.history.changed(groupId);
    this.emit({ kind: 'messages', groupId });
    this.emit({ kind: 'chats' });
  }

  /**
   * People named in a notice: the first few by name, the rest counted (a group created with 5,000
   * people costs a handful of lookups, not 5,000).
   */
  private async nameList(accountIds: readonly string[]): Promise<string> {
    const named = await Promise.all(accountIds.slice(0, NOTICE_NAMES_MAX).map((id) => this.nameOf(id)));
    const rest = accountIds.length - named.length;
    if (rest === 0) return named.join(', ');
    return `${named.join(', ')} and ${new Intl.NumberFormat('en').format(rest)} ${rest === 1 ? 'other' : 'others'}`;
  }

  private async describe(event: RosterEvent): Promise<string> {
    const actor = await this.nameOf(event.actorAccountId);
    if (event.action === 'created') {
      const others = event.subjectAccountIds.filter((id) => id !== event.actorAccountId);
      const withWhom = others.length > 0 ? ` with ${await this.nameList(others)}` : '';
      return `${actor} created the chat${event.title ? ` “${event.title}”` : ''}${withWhom}`;
    }
    const subjects = await this.nameList(event.subjectAccountIds);
    switch (event.action) {
      case 'added':
        return `${actor} added ${subjects}`;
      case 'removed':
        return `${actor} removed ${subjects}`;
      case 'left':
        return `${subjects || actor} left`;
      case 'role_changed':
        return `${actor} made ${subjects} ${event.role === 'admin' ? 'an admin' : `a ${event.role}`}`;
      case 'device_added':
        return `${subjects || actor} signed in on a new device`;
    }
  }

  /** Marks everything in a chat as read on this device. */
  async markRead(groupId: string): Promise<void> {
    const { client, history } = this.live;
    const newest = await history.newestSeq(groupId);
    // The SDK moves the read position (the unread count drops here and on the person's other
    // devices, which it tells) and, read receipts on, tells the chat's other people.
    if (newest > 0) await client.markRead(groupId, newest);
  }

  /**
   * Why the chat shows no delivered or read marks, when it is a group of more devices than receipts
   * are sent in ("Receipts are off in groups of more than 100 devices"); undefined where receipts work.
   * The person's own devices still share what was read there.
   */
  async receiptsNotice(groupId: string): Promise<string | undefined> {
    const receipts = await this.live.client.receiptsInChat(groupId);
    return !receipts.on && receipts.reason === 'large_group'
      ? receiptsOffText(receipts.maxDevices)
      : undefined;
  }

  /** Read receipts, both ways: off, this device sends none and shows none (sent messages stop at delivered). */
  readReceipts(): boolean {
    return this.live.app.readReceipts();
  }

  async setReadReceipts(on: boolean): Promise<void> {
    const { app, client } = this.live;
    await app.setReadReceipts(on);
    client.setReadReceipts(on);
    // Every chat's marks may read differently now (read shows as delivered while off).
    for (const group of this.groups) this.emit({ kind: 'messages', groupId: group.groupId });
  }

  /**
   * Encrypts a text and puts it in the outbox; it goes out now, or when the connection is back
   * (also after a reload). The page hears of it at once (queued) and again once the server stored it.
   */
  async send(groupId: string, text: string): Promise<void> {
    const { client, history } = this.live;
    // Stored by the server later: the SDK says so (a status event), and the page hears of it again.
    await client.queueText(groupId, text, randomClientMsgId());
    history.changed(groupId);
    this.emit({ kind: 'messages', groupId });
    this.emit({ kind: 'chats' });
    this.watchOutbox();
  }

  /**
   * While texts wait in the outbox, looks every half second for ones that left it: a text queued
   * before a reload is sent again by the connection with no word to the app, and its chat must stop
   * showing it as queued.
   */
  private watchOutbox(): void {
    if (this.outboxWatch !== undefined) return;
    const running = this.running;
    if (!running) return;
    let waiting = new Map(running.store.outbox().map((item) => [item.clientMsgId, item.target]));
    if (waiting.size === 0) return;
    this.outboxWatch = setInterval(() => {
      const now = new Map(running.store.outbox().map((item) => [item.clientMsgId, item.target]));
      const gone = new Set([...waiting].filter(([id]) => !now.has(id)).map(([, target]) => target));
      for (const groupId of gone) {
        running.history.changed(groupId);
        this.emit({ kind: 'messages', groupId });
      }
      waiting = now;
      if (now.size === 0 || this.running !== running) {
        clearInterval(this.outboxWatch);
        this.outboxWatch = undefined;
      }
    }, 500);
  }

  // Media (device-media.ts) ------------------------------------------------------------------------

  /** Encrypts, uploads (with progress, cancellable by `transferId`) and sends a file to a chat. */
  sendMedia(
    groupId: string,
    transferId: string,
    file: Blob,
    meta: MediaMeta,
    onProgress?: (progress: TransferProgress) => void,
  ): Promise<void> {
    return this.media.send(groupId, transferId, file, meta, onProgress);
  }

  /** Downloads and decrypts a whole file of a message (`MessageRow.key`), checking its digest. */
  downloadMedia(
    groupId: string,
    messageKey: string,
    transferId: string,
    onProgress?: (progress: TransferProgress) => void,
  ): Promise<Blob> {
    return this.media.download(groupId, messageKey, transferId, onProgress);
  }

  /** Cancels a transfer; a pending upload is deleted on the server and on this device. */
  cancelTransfer(transferId: string): Promise<void> {
    return this.media.cancel(transferId);
  }

  /**
   * The files this device is still sending to a chat or (`channel:<id>`) posting to a channel, also
   * those an earlier run left, with progress.
   */
  pendingUploads(groupId: string): Promise<PendingUploadView[]> {
    return this.media.pendingUploads(groupId);
  }

  /** Answers the media service worker's range requests on this port (a <video> plays while downloading). */
  serveMedia(port: MessagePort): void {
    this.media.serve(port);
  }

  /** A public sticker pack by its short name (issue 16). */
  stickerPack(shortName: string): Promise<StickerPackView> {
    return new StickerApi(this.http).pack(shortName);
  }

  /** The sticker packs this account owns. */
  myStickerPacks(): Promise<StickerPackView[]> {
    return new StickerApi(this.live.client.http).myPacks();
  }

  createStickerPack(shortName: string, title: string): Promise<StickerPackView> {
    return new StickerApi(this.live.client.http).createPack(shortName, title);
  }

  /** Uploads an image as the next sticker of a pack this account owns (the server checks its content). */
  uploadSticker(shortName: string, image: Uint8Array, mime: string, emoji: string): Promise<StickerView> {
    return new StickerApi(this.live.client.http).upload(shortName, image, mime, emoji);
  }

  /** Sends a sticker (a reference to it, never the image) like a text: outbox first. */
  async sendSticker(groupId: string, sticker: StickerRef): Promise<void> {
    // Stored by the server later: the SDK says so (a status event), and the page hears of it again.
    await this.live.client.queueSticker(groupId, sticker, randomClientMsgId());
    this.changed(groupId);
    this.watchOutbox();
  }

  /** Opens (or finds) the direct chat with a person named by @username or phone number. */
  async openDirect(handle: string): Promise<string> {
    const user = await this.find(handle);
    if (user.accountId === this.live.session.accountId)
      throw new CourierError('REQ_INVALID', { message: 'That is you. Pick someone else to write to.' });
    const chat = await this.live.client.openDirect(user.accountId);
    await this.loadGroups();
    return chat.groupId;
  }

  async createGroup(title: string, handles: string[]): Promise<string> {
    const people = await Promise.all(handles.map((h) => this.find(h)));
    const chat = await this.live.client.createGroup(
      title,
      people.map((p) => p.accountId),
    );
    await this.loadGroups();
    return chat.groupId;
  }

  /**
   * A chat's info. A group's members come with the names this device knows already (no request
   * per member: a 5,000-member roster would be 5,000 lookups); the page asks `memberNames` for the
   * rows in view. A direct chat's peer is looked up here (its name is the title).
   */
  async chatInfo(groupId: string): Promise<ChatInfo> {
    const detail = await this.live.client.http.group(groupId);
    const me = this.live.session.accountId;
    const members: MemberRow[] = await Promise.all(
      detail.members.map(async (m) => {
        const name =
          m.accountId === me
            ? 'You'
            : detail.kind === 'direct'
              ? await this.nameOf(m.accountId)
              : this.knownName(m.accountId);
        return {
          accountId: m.accountId,
          ...(name === undefined ? {} : { name }),
          role: m.role,
          me: m.accountId === me,
        };
      }),
    );
    const peer = detail.kind === 'direct' ? members.find((m) => !m.me) : undefined;
    const receiptsOff = await this.receiptsNotice(groupId);
    return {
      ...(receiptsOff ? { receiptsOff } : {}),
      groupId,
      kind: detail.kind,
      title: peer ? (peer.name ?? (await this.nameOf(peer.accountId))) : detail.title,
      myRole: detail.myRole,
      members,
      ...(peer ? { peerAccountId: peer.accountId } : {}),
    };
  }

  async addMembers(groupId: string, handles: string[]): Promise<void> {
    const people = await Promise.all(handles.map((h) => this.find(h)));
    await this.live.client.addMembers(
      groupId,
      people.map((p) => p.accountId),
    );
    await this.refreshChat(groupId);
  }

  async removeMember(groupId: string, accountId: string): Promise<void> {
    await this.live.client.removeMember(groupId, accountId);
    await this.refreshChat(groupId);
  }

  async setRole(groupId: string, accountId: string, role: 'admin' | 'member'): Promise<void> {
    await this.live.client.http.setRole(groupId, accountId, role);
    await this.refreshChat(groupId);
  }

  async leave(groupId: string): Promise<void> {
    await this.live.client.leave(groupId);
    this.running?.history.changed(groupId);
    await this.loadGroups();
  }

  // Consent: requests, blocks, reports -----------------------------------------------------------

  /**
   * Message requests (direct chats strangers opened, from the chat list the server gave) and group
   * invitations, oldest first. `fresh` asks the server again (invitations come with no push).
   */
  async requests(fresh = false): Promise<RequestRow[]> {
    if (fresh) await this.loadGroups().catch(() => {});
    const { app, store, history } = await this.opened();
    if (this.groups.length === 0 && !this.groupsLoaded) this.groups = app.groups();
    const mine = new Set(await store.groupIds());
    const direct = await Promise.all(
      this.groups
        .filter((g) => g.request)
        .map(async (group): Promise<RequestRow | undefined> => {
          const from = await this.peerOf(group);
          if (!from) return undefined;
          const name = await this.nameOf(from);
          const ready = mine.has(group.groupId);
          const last = ready ? (await history.glance(group.groupId)).lastText : undefined;
          return {
            groupId: group.groupId,
            type: 'direct',
            fromAccountId: from,
            fromName: name,
            title: name,
            memberCount: group.memberCount,
            createdAtMs: group.createdAtMs,
            ready,
            lastText: last?.text ?? '',
          };
        }),
    );
    const invitations = await Promise.all(
      this.invitations.map(async (invitation): Promise<RequestRow> => {
        const name = await this.nameOf(invitation.fromAccountId);
        return {
          groupId: invitation.groupId,
          type: 'invitation',
          fromAccountId: invitation.fromAccountId,
          fromName: name,
          title: invitation.type === 'invitation' ? invitation.title : name,
          memberCount: invitation.type === 'invitation' ? invitation.memberCount : 2,
          createdAtMs: invitation.createdAtMs,
          ready: false,
          lastText: '',
        };
      }),
    );
    return [...direct.filter((r) => r !== undefined), ...invitations].sort(
      (a, b) => a.createdAtMs - b.createdAtMs,
    );
  }

  /** Accepts a message request (it moves to the chats) or a group invitation (I join the group). */
  async acceptRequest(groupId: string): Promise<void> {
    await this.live.client.acceptRequest(groupId);
    this.running?.history.changed(groupId);
    await this.loadGroups();
  }

  /** Deletes (declines) a request or an invitation; the sender is not told, and this device forgets the chat. */
  async declineRequest(groupId: string): Promise<void> {
    await this.live.client.declineRequest(groupId);
    this.running?.history.changed(groupId);
    await this.loadGroups();
  }

  /**
   * Blocks a person, silently: the direct chat with them goes (declined), their invitations too, and
   * nothing they send reaches this account while the block stands.
   */
  async block(accountId: string): Promise<void> {
    if (accountId === this.live.session.accountId)
      throw new CourierError('CONSENT_SELF_BLOCK', { message: 'You cannot block yourself.' });
    const directs = new Set(this.groups.filter((g) => g.kind === 'direct').map((g) => g.groupId));
    await this.live.client.block(accountId);
    for (const groupId of directs) this.running?.history.changed(groupId);
    await this.loadGroups();
  }

  async unblock(accountId: string): Promise<void> {
    await this.live.client.unblock(accountId);
    this.emit({ kind: 'chats' });
  }

  /** The people I blocked, with their names as I may see them. */
  async blocks(): Promise<BlockRow[]> {
    const blocks = await this.live.client.http.blocks();
    return Promise.all(
      blocks.map(async (b) => ({
        accountId: b.accountId,
        name: await this.nameOf(b.accountId),
        createdAtMs: b.createdAtMs,
      })),
    );
  }

  /**
   * The messages of a chat a report can forward, as this device holds them (decrypted here): the
   * readable texts, at most the report's limit, newest last.
   */
  async reportCandidates(groupId: string): Promise<ReportCandidate[]> {
    const readable = await this.live.history.newest(
      groupId,
      REPORT_LIMITS.maxMessages,
      (m) => m.roster === undefined && m.text.length > 0,
    );
    return Promise.all(
      readable.slice(-REPORT_LIMITS.maxMessages).map(async (m) => ({
        clientMsgId: m.clientMsgId,
        senderAccountId: m.senderAccountId,
        senderName: await this.nameOf(m.senderAccountId),
        sentAtMs: m.sentAtMs,
        text: m.text,
        outgoing: m.outgoing,
      })),
    );
  }

  /**
   * Builds a report (the SDK's draft, from this device's own history) for the person to read before
   * anything is sent: exactly the body that would leave the device, with the senders' names. In a
   * group, the reported person is the one other sender of the chosen messages, when there is one.
   */
  async draftReport(
    groupId: string,
    choice: { reason: ReportReason; comment: string; clientMsgIds: string[] },
  ): Promise<ReportPreview> {
    const { client, session } = this.live;
    const group = this.groups.find((g) => g.groupId === groupId);
    let reportedAccountId: string | undefined;
    if (group?.kind === 'direct') reportedAccountId = await this.peerOf(group);
    else {
      const held = await client.messages(groupId);
      const chosen = new Set(choice.clientMsgIds);
      const senders = new Set(
        held.filter((m) => chosen.has(m.clientMsgId) && !m.outgoing).map((m) => m.senderAccountId),
      );
      senders.delete(session.accountId);
      if (senders.size === 1) reportedAccountId = [...senders][0];
    }
    const comment = choice.comment.trim();
    const draft = await client.draftReport(groupId, {
      reason: choice.reason,
      ...(comment ? { comment } : {}),
      clientMsgIds: choice.clientMsgIds,
      ...(reportedAccountId ? { reportedAccountId } : {}),
    });
    const senderNames: Record<string, string> = {};
    for (const m of draft.body.messages)
      senderNames[m.senderAccountId] ??= await this.nameOf(m.senderAccountId);
    return {
      body: draft.body,
      senderNames,
      ...(reportedAccountId ? { reportedName: await this.nameOf(reportedAccountId) } : {}),
    };
  }

  /** Sends the report the person read and agreed to (exactly that body); optionally blocks the person too. */
  async sendReport(body: FileReportBody, alsoBlock?: string): Promise<{ reportId: string }> {
    const { reportId } = await this.live.client.sendReport({ body });
    if (alsoBlock) await this.block(alsoBlock);
    return { reportId };
  }

  // Broadcast channels (device-channels.ts) -------------------------------------------------------

  /** The channels I subscribe to, own or help run, with unread counts. */
  channels(): Promise<ChannelSummary[]> {
    return this.live.channels.list();
  }

  channel(channelId: string): Promise<ChannelSummary> {
    return this.live.channels.show(channelId);
  }

  /** The channel on screen (undefined: none): read now, and as its posts arrive. */
  openChannel(channelId: string | undefined): Promise<void> {
    return this.live.channels.setOpen(channelId);
  }

  /** The newest `limit` posts of a channel, oldest first. */
  channelPage(channelId: string, limit: number): Promise<ChannelPostPage> {
    return this.live.channels.page(channelId, limit);
  }

  /** Posts text or a sticker to a channel this device holds the key of (public, signed, not E2E). */
  postToChannel(
    channelId: string,
    post: { text: string } | { sticker: { pack: string; index: number; emoji: string } },
  ): Promise<void> {
    const content: AnyContent =
      'text' in post
        ? { v: 1, type: 'text', text: post.text, sentAtMs: Date.now() }
        : { v: 1, type: 'sticker', sticker: post.sticker, sentAtMs: Date.now() };
    return this.live.channels.post(channelId, content);
  }

  /**
   * Encrypts, uploads (with progress, cancellable by `transferId`) and posts a photo, video or file to
   * a channel this device holds the key of: public, readable by anyone who can read the channel.
   */
  postChannelMedia(
    channelId: string,
    transferId: string,
    file: Blob,
    meta: MediaMeta,
    onProgress?: (progress: TransferProgress) => void,
  ): Promise<void> {
    return this.media.postToChannel(channelId, transferId, file, meta, onProgress);
  }

  editChannelPost(channelId: string, postId: string, text: string): Promise<void> {
    return this.live.channels.edit(channelId, postId, text);
  }

  deleteChannelPost(channelId: string, postId: string): Promise<void> {
    return this.live.channels.delete(channelId, postId);
  }

  createChannel(
    name: string,
    title: string,
    visibility: 'public' | 'private',
    description = '',
  ): Promise<ChannelSummary> {
    return this.live.channels.create(name, title, visibility, description);
  }

  previewChannel(target: ChannelTarget): Promise<ChannelPreview> {
    return this.live.channels.preview(target);
  }

  subscribeChannel(target: ChannelTarget): Promise<ChannelSummary> {
    return this.live.channels.subscribe(target);
  }

  unsubscribeChannel(channelId: string): Promise<void> {
    return this.live.channels.unsubscribe(channelId);
  }

  acceptChannelKey(channelId: string): Promise<void> {
    return this.live.channels.acceptKey(channelId);
  }

  channelInvites(channelId: string): Promise<ChannelInviteRow[]> {
    return this.live.channels.invites(channelId);
  }

  createChannelInvite(channelId: string): Promise<{ inviteId: string; link: string }> {
    return this.live.channels.createInvite(channelId);
  }

  /** The channel's new title and description (its owner and admins). */
  editChannelInfo(channelId: string, title: string, description: string): Promise<ChannelSummary> {
    return this.live.channels.editInfo(channelId, { title, description });
  }

  revokeChannelInvite(channelId: string, inviteId: string): Promise<void> {
    return this.live.channels.revokeInvite(channelId, inviteId);
  }

  /** The channel's owner and admins (for its owner and admins). */
  channelAdmins(channelId: string): Promise<ChannelAdminRow[]> {
    return this.live.channels.adminList(channelId);
  }

  /** Removes one listed admin (the owner). */
  removeChannelAdmin(channelId: string, accountId: string): Promise<void> {
    return this.live.channels.removeAdmin(channelId, accountId);
  }

  /** Names an admin (handing the key over end to end), removes one, or sends the key again. */
  channelAdmin(channelId: string, handle: string, action: 'add' | 'remove' | 'send-key'): Promise<string> {
    return this.live.channels.admin(channelId, handle, action);
  }

  // Security --------------------------------------------------------------------------------------

  /** The safety number shared with a person, and whether their keys changed since last looked at. */
  async safety(
    accountId: string,
  ): Promise<{ number: string; keysChanged: boolean; verified: boolean; name: string }> {
    const number = await this.live.client.safetyNumber(accountId);
    const { app } = this.live;
    return {
      number,
      keysChanged: app.keysChanged(accountId),
      verified: app.verified(accountId),
      name: await this.nameOf(accountId),
    };
  }

  /** Sets or clears the "verified" mark of a contact (comparing the number also clears a key warning). */
  async setVerified(accountId: string, verified: boolean): Promise<void> {
    if (verified) await this.live.app.setKeysChanged(accountId, false);
    await this.live.app.setVerified(accountId, verified);
    this.emit({ kind: 'key_change', accountId });
  }

  /** The person compared the safety number: the key-change warning goes away. */
  async acknowledgeKeys(accountId: string): Promise<void> {
    await this.live.app.setKeysChanged(accountId, false);
    this.emit({ kind: 'key_change', accountId });
  }
}
