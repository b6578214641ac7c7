import { createInterface } from 'node:readline';
import { CourierError, type GroupView } from '@courier/protocol';
import {
  type ChatReceipts,
  type CourierConnection,
  messageStatus,
  randomClientMsgId,
  receiptsOffText,
  SecureClient,
  type StoredMessage,
  storedChatReceipts,
} from '@courier/sdk';
import type { CommandContext } from '../context.ts';
import { MessagePrinter } from '../message-printer.ts';
import { Names } from '../names.ts';
import { parseChatRef, resolveAccount, resolveChat } from '../resolve.ts';
import { secureDirectOpener, withSecureClient } from '../secure-session.ts';
import { type DraftOutcome, deliverDrafts } from '../draft-delivery.ts';
import { printable, safeJson } from '../terminal-text.ts';
import { channelClient, describePost, followChannelKeys } from './channel-commands.ts';
import type { DeviceStore } from '../device-store.ts';

function printer(ctx: CommandContext): MessagePrinter {
  const session = ctx.profile.requireSession();
  const http = ctx.profile.http();
  return new MessagePrinter(http, new Names(http), session.accountId);
}

async function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CourierError('SERVER_UNAVAILABLE', { message })), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** How a draft's chat is found from a running secure client: a direct chat is opened with its group. */
function draftResolver(ctx: CommandContext, client: SecureClient): (chat: string) => Promise<GroupView> {
  return (chat) => resolveChat(ctx.profile.http(), chat, (accountId) => client.openDirect(accountId));
}

/** Tells about drafts other than the one just typed: dropped ones, and ones still waiting. */
function reportDrafts(ctx: CommandContext, outcomes: DraftOutcome[], except?: string): void {
  for (const outcome of outcomes) {
    if (outcome.draft.clientMsgId === except) continue;
    const what = `a message to ${printable(outcome.draft.chat)} typed earlier`;
    if (outcome.kind === 'dropped')
      ctx.io.err(
        `(${what} cannot be sent and was dropped: ${outcome.reason.code} ${outcome.reason.message})`,
      );
    else if (outcome.kind === 'kept') ctx.io.err(`(${what} is still kept: ${outcome.reason.code})`);
  }
}

/** Sends the drafts of earlier sends from a running listen or chat, and says what could not go. */
function deliverKeptDrafts(
  ctx: CommandContext,
  client: SecureClient,
  store: DeviceStore,
  stopped: () => boolean,
): Promise<void> {
  return deliverDrafts(client, store, {
    resolve: draftResolver(ctx, client),
    joinWaitMs: 15_000,
    stopped,
  }).then(
    (outcomes) => {
      if (!stopped()) reportDrafts(ctx, outcomes);
    },
    (error: unknown) => {
      if (!stopped()) ctx.io.err(`(kept messages not sent yet: ${(error as Error).message})`);
    },
  );
}

/**
 * `courier send <chat> <text>`: the text is kept in the device store before anything can fail (as a
 * draft until it is encrypted, then in the outbox until the server stored it), so a message typed is
 * never lost; earlier kept messages go out first. A person with no chat yet gets one, encrypted, as
 * `courier dm` makes it.
 */
export async function send(
  ctx: CommandContext,
  chat: string,
  words: string[],
  options: { wait: string },
): Promise<void> {
  ctx.profile.requireSession();
  const waitMs = Number(options.wait) * 1000;
  if (!(waitMs > 0)) throw new CourierError('REQ_INVALID', { message: '--wait takes a number of seconds.' });
  // A chat argument that names nothing is refused before anything is kept.
  parseChatRef(chat);
  const clientMsgId = randomClientMsgId();
  const drafts = ctx.profile.deviceStore();
  try {
    drafts.addDraft({ clientMsgId, chat, text: words.join(' ') });
  } finally {
    drafts.close();
  }
  const notAccepted = `The server did not accept the message within ${options.wait} s. It stays in this profile's outbox and goes out with the next send, listen or chat.`;
  await withSecureClient(ctx, async ({ client, store }) => {
    const outcomes = await deliverDrafts(client, store, {
      resolve: draftResolver(ctx, client),
      joinWaitMs: waitMs,
      // Wait for the chat of this message; older ones stuck elsewhere are tried, not waited for.
      patient: (draft) => draft.clientMsgId === clientMsgId,
    });
    reportDrafts(ctx, outcomes, clientMsgId);
    const mine = outcomes.find((o) => o.draft.clientMsgId === clientMsgId);
    if (!mine)
      throw new CourierError('INTERNAL', { message: 'The message was not found among the kept ones.' });
    if (mine.kind !== 'queued') throw mine.reason;
    // Earlier kept messages were queued first and go out first: wait for them too.
    const queued = outcomes.filter((o) => o.kind === 'queued');
    await withTimeout(Promise.allSettled(queued.map((o) => o.accepted)), waitMs, notAccepted);
    const accepted = await mine.accepted;
    if (ctx.json) ctx.io.out(JSON.stringify({ groupId: mine.groupId, ...accepted }));
    else ctx.io.out(`Sent to ${chat} (#${accepted.seq}).`);
  }).catch((error: unknown) => {
    // Nothing answered at all: the message waits in the store (as a draft or in the outbox).
    if (error instanceof CourierError && error.code === 'SERVER_UNAVAILABLE')
      throw new CourierError('SERVER_UNAVAILABLE', { message: notAccepted });
    throw error;
  });
}

/** A stored message or roster change, as a line. */
function stored(ctx: CommandContext, print: MessagePrinter, message: StoredMessage): Promise<string> {
  if (message.roster)
    return ctx.json
      ? print.rosterJson(message.groupId, message.seq, message.roster)
      : print.rosterLine(message.groupId, message.roster);
  return ctx.json ? print.json(message) : print.line(message);
}

/** Runs until Ctrl-C (or SIGTERM), or until the server ends the session; then stops cleanly. */
function untilStopped(client: SecureClient): Promise<CourierError | undefined> {
  return new Promise((resolve) => {
    const finish = (error?: CourierError) => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolve(error);
    };
    const onSignal = () => finish();
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    client.on('fatal', (error) => finish(error));
  });
}

/**
 * The line that says a chat gets no delivered or read marks (a group of more devices than receipts
 * are sent in), or undefined where receipts work.
 */
export function receiptsOffLine(receipts: ChatReceipts): string | undefined {
  if (receipts.on || receipts.reason !== 'large_group') return undefined;
  return `(${receiptsOffText(receipts.maxDevices)}: sent messages here stay "✓ stored"; your own devices still share what you read)`;
}

/**
 * Shows what a secure client reports: messages (also of types this version cannot show), roster
 * changes, delivered and read marks of sent messages, unreadable messages. `markRead`: what is
 * shown counts as read (an interactive chat), and the sender's device hears so.
 */
function showEvents(
  ctx: CommandContext,
  client: SecureClient,
  store: DeviceStore,
  only: string | undefined,
  print: MessagePrinter,
  show: (line: string) => void,
  markRead = false,
): void {
  // Lines are printed in the order events happened, whatever each lookup takes.
  let queue = Promise.resolve();
  const later = (line: () => Promise<string>) => {
    queue = queue.then(async () => show(await line())).catch(() => {});
  };
  // Said once per chat, with its first message: why no delivered or read marks come there.
  const toldReceipts = new Set<string>();
  const tellReceipts = (groupId: string) => {
    if (toldReceipts.has(groupId)) return;
    toldReceipts.add(groupId);
    void client
      .receiptsInChat(groupId)
      .then((receipts) => {
        const line = receiptsOffLine(receipts);
        if (line) ctx.io.err(line);
      })
      .catch(() => {});
  };
  client.on('message', (message: StoredMessage) => {
    if (message.outgoing || (only !== undefined && message.groupId !== only)) return;
    tellReceipts(message.groupId);
    store.markShown(message);
    later(() => (ctx.json ? print.json(message) : print.line(message)));
    if (markRead) void client.markRead(message.groupId, message.seq).catch(() => {});
  });
  client.on('updated', (update) => {
    if (update.action.senderDeviceId === client.deviceId) return;
    if (only !== undefined && update.message.groupId !== only) return;
    later(() => (ctx.json ? print.updateJson(update) : print.updateLine(update)));
  });
  client.on('status', (status) => {
    if (status.status === 'stored' || (only !== undefined && status.groupId !== only)) return;
    later(() => (ctx.json ? print.statusJson(status) : print.statusLine(status)));
  });
  client.on('roster', ({ groupId, seq, event }) => {
    if (only !== undefined && groupId !== only) return;
    store.markShown({ groupId, senderDeviceId: '', clientMsgId: `roster-${seq}` });
    later(() => (ctx.json ? print.rosterJson(groupId, seq, event) : print.rosterLine(groupId, event)));
  });
  client.on('undecryptable', ({ groupId, seq, code }) =>
    ctx.io.err(`(message #${seq} in ${groupId} could not be decrypted: ${code}; skipped)`),
  );
  client.on('removed', ({ groupId }) => ctx.io.err(`(this device was removed from ${groupId})`));
}

/**
 * Prints the posts of subscribed channels as they come (each checked against the pinned channel key
 * and marked as a public channel's); returns a catch-up to run once connected.
 */
async function followChannels(
  ctx: CommandContext,
  connection: CourierConnection,
): Promise<() => Promise<void>> {
  const client = channelClient(ctx);
  const names = new Map<string, string>();
  const refresh = async () => {
    for (const c of await client.list()) names.set(c.channelId, c.name);
  };
  await refresh();
  let printing = Promise.resolve();
  client.on('post', (post) => {
    printing = printing.then(async () => {
      if (!names.has(post.channelId)) await refresh().catch(() => undefined);
      ctx.io.out(
        ctx.json
          ? safeJson({ channel: names.get(post.channelId) ?? post.channelId, public: true, ...post })
          : describePost(names.get(post.channelId) ?? post.channelId, post),
      );
    });
  });
  client.on('problem', (error) =>
    ctx.io.err(`(channel posts could not be read now: ${error.code}; retried with the next post)`),
  );
  client.attach(connection);
  return async () => {
    for (const channelId of names.keys()) await client.sync(channelId).catch(() => undefined);
  };
}

export async function listen(ctx: CommandContext, chat: string | undefined): Promise<void> {
  ctx.profile.requireSession();
  const only =
    chat === undefined
      ? undefined
      : (await resolveChat(ctx.profile.http(), chat, secureDirectOpener(ctx))).groupId;
  const release = ctx.profile.claimConnection('listen');
  const session = ctx.profile.requireSession();
  const store = ctx.profile.deviceStore();
  try {
    const print = printer(ctx);
    const client = new SecureClient({
      url: ctx.profile.server(),
      token: session.token,
      accountId: session.accountId,
      deviceId: session.deviceId,
      store,
      client: 'courier-cli',
      readReceipts: store.readReceipts(),
      // Another chat's entries stay unseen, for a later `listen` without a chat.
      ...(only === undefined ? {} : { accept: (groupId: string) => groupId === only }),
    });
    showEvents(ctx, client, store, only, print, (line) => ctx.io.out(line));
    followChannelKeys(ctx, client);
    const names = new Names(ctx.profile.http());
    client.on('key_change', (change) => {
      void names
        .of(change.accountId)
        .then((who) =>
          ctx.io.err(
            `(the keys of ${printable(who)} changed: a device of theirs ${change.replaced ? 'has a new key' : 'was added'}; compare safety numbers: courier safety ${who.startsWith('@') ? who : '<who>'})`,
          ),
        );
    });
    client.on('state', (state) => {
      if (!ctx.json) ctx.io.err(`(${state === 'ready' ? 'connected' : state})`);
    });
    // What arrived while nothing was showing (stored by a send, a group command, or a filtered listen).
    for (const message of store.takeUnshown(only)) ctx.io.out(await stored(ctx, print, message));
    const stopped = untilStopped(client);
    // Channel posts (public, not end-to-end encrypted) show too, marked as such, unless one chat was named.
    const channels = only === undefined ? await followChannels(ctx, client.connection) : undefined;
    await client.start();
    await channels?.();
    let stopping = false;
    const delivering = deliverKeptDrafts(ctx, client, store, () => stopping);
    const fatal = await stopped;
    stopping = true;
    await delivering;
    await client.stop();
    if (fatal) throw fatal;
  } finally {
    store.close();
    release();
  }
}

export async function interactiveChat(ctx: CommandContext, chat: string): Promise<void> {
  ctx.profile.requireSession();
  const group = await resolveChat(ctx.profile.http(), chat, secureDirectOpener(ctx));
  const release = ctx.profile.claimConnection('chat');
  try {
    await runChat(ctx, group.groupId);
  } finally {
    release();
  }
}

/** Incoming lines are printed above the prompt; each typed line is encrypted and sent. */
async function runChat(ctx: CommandContext, groupId: string): Promise<void> {
  const session = ctx.profile.requireSession();
  const print = printer(ctx);
  const tty = process.stdin.isTTY && process.stdout.isTTY;
  let rl: ReturnType<typeof createInterface> | undefined;
  const show = (line: string) => {
    if (!tty || !rl) return ctx.io.out(line);
    process.stdout.write('\r\x1b[K');
    ctx.io.out(line);
    rl.prompt(true);
  };
  const store = ctx.profile.deviceStore();
  const client = new SecureClient({
    url: ctx.profile.server(),
    token: session.token,
    accountId: session.accountId,
    deviceId: session.deviceId,
    store,
    client: 'courier-cli',
    readReceipts: store.readReceipts(),
    accept: (id) => id === groupId,
  });
  let fatal: CourierError | undefined;
  client.on('fatal', (error) => {
    fatal = error;
    rl?.close();
  });
  showEvents(ctx, client, store, groupId, print, show, true);
  // A channel key the owner sends in this chat is imported here too (not lost to a chat window).
  followChannelKeys(ctx, client);
  let readUpTo = 0;
  for (const message of store.takeUnshown(groupId)) {
    show(await stored(ctx, print, message));
    if (!message.outgoing && !message.roster) readUpTo = Math.max(readUpTo, message.seq);
  }
  await client.start();
  // A group of more devices than receipts are sent in: said on opening, not left to ticks that never come.
  const receiptsOff = receiptsOffLine(await client.receiptsInChat(groupId));
  if (receiptsOff) ctx.io.err(receiptsOff);
  // What was shown on opening the chat is read now.
  if (readUpTo > 0) await client.markRead(groupId, readUpTo);
  let stopping = false;
  const isStopping = () => stopping;
  // Kept messages (of earlier sends) go out first, in the order they were typed.
  let order = deliverKeptDrafts(ctx, client, store, isStopping);
  // Read lines only now: piped input would otherwise be read (and its end seen) before anyone listens.
  rl = createInterface({ input: process.stdin, output: process.stdout, terminal: tty });
  if (tty) ctx.io.err(`Chatting in ${printable(await print.title(groupId))}; Ctrl-C or Ctrl-D to stop.`);
  rl.setPrompt('> ');
  if (tty) rl.prompt();
  const sending = new Set<Promise<unknown>>();
  // Lines are encrypted one after another, in the order typed. Each is kept (as a draft) before
  // anything can fail, and leaves the drafts only for the outbox.
  rl.on('line', (line) => {
    const text = line.trim();
    if (text.length > 0) {
      store.addDraft({ clientMsgId: randomClientMsgId(), chat: groupId, groupId, text });
      order = order.then(async () => {
        const outcomes = await deliverDrafts(client, store, {
          resolve: draftResolver(ctx, client),
          joinWaitMs: 15_000,
          filter: (draft) => draft.groupId === groupId,
          stopped: isStopping,
        }).catch(() => []);
        for (const outcome of outcomes) {
          if (outcome.kind === 'dropped')
            show(`(not sent: ${outcome.reason.code} ${outcome.reason.message})`);
          else if (outcome.kind === 'kept' && !stopping)
            show(`(not sent yet: ${outcome.reason.code}; kept, it goes out next time)`);
        }
        await Promise.allSettled(outcomes.map((o) => (o.kind === 'queued' ? o.accepted : undefined)));
      });
      const sent = order.finally(() => sending.delete(sent));
      sending.add(sent);
    }
    if (tty) rl.prompt();
  });
  await new Promise<void>((resolve) => {
    let finishing = false;
    // At the end of input what was typed is stored before we go; on Ctrl-C it stays in the outbox.
    const finish = async (waitForSends: boolean) => {
      if (finishing) return;
      finishing = true;
      if (!waitForSends) stopping = true;
      process.off('SIGINT', onTerm);
      process.off('SIGTERM', onTerm);
      if (waitForSends && !fatal) await Promise.allSettled([...sending]);
      else if (sending.size > 0)
        ctx.io.err(`(${sending.size} not yet accepted: they stay in the outbox and go out next time)`);
      await client.stop();
      store.close();
      resolve();
    };
    const onTerm = () => {
      void finish(false);
      rl?.close();
    };
    rl.on('SIGINT', onTerm); // Ctrl-C at the terminal
    rl.on('close', () => void finish(true)); // Ctrl-D, or the end of piped input
    process.once('SIGINT', onTerm);
    process.once('SIGTERM', onTerm);
  });
  if (fatal) throw fatal;
}

/**
 * `courier history <chat> [--before N] [--limit N]`: a page of the chat as this device keeps it,
 * oldest first, sent messages with their marks; read from the device's store alone (no connection).
 */
export async function history(
  ctx: CommandContext,
  chat: string,
  options: { before?: string; limit: string },
): Promise<void> {
  ctx.profile.requireSession();
  const group = await resolveChat(ctx.profile.http(), chat, secureDirectOpener(ctx));
  const limit = Number(options.limit);
  const before = options.before === undefined ? undefined : Number(options.before);
  const print = printer(ctx);
  const store = ctx.profile.deviceStore();
  try {
    const page = await store.history(group.groupId, before === undefined ? { limit } : { before, limit });
    const state = await store.chatState(group.groupId);
    const readReceipts = store.readReceipts();
    const receipts = await storedChatReceipts(store, group.groupId);
    const receiptsOff = receiptsOffLine(receipts);
    const oldestFirst = page.messages
      .map((m) => (m.outgoing ? { ...m, status: messageStatus(m.seq, state, readReceipts) } : m))
      .reverse();
    if (ctx.json) {
      ctx.io.out(
        JSON.stringify({
          groupId: group.groupId,
          messages: await Promise.all(
            oldestFirst.map((m) => stored(ctx, print, m).then((l) => JSON.parse(l))),
          ),
          before: page.before ?? null,
          receipts: receipts.on ? 'on' : receipts.reason === 'large_group' ? 'off_large_group' : 'off',
        }),
      );
      return;
    }
    if (receiptsOff) ctx.io.err(receiptsOff);
    if (oldestFirst.length === 0) ctx.io.err('(no messages kept on this device for this chat)');
    for (const message of oldestFirst)
      ctx.io.out(
        message.roster
          ? await print.rosterLine(message.groupId, message.roster)
          : await print.historyLine(message),
      );
    if (page.before !== undefined)
      ctx.io.err(`(older messages: courier history ${chat} --before ${page.before} --limit ${limit})`);
  } finally {
    store.close();
  }
}

/** The safety number this account shares with another person, to compare out of band. */
export async function safety(ctx: CommandContext, who: string): Promise<void> {
  const accountId = await resolveAccount(ctx.profile.http(), who);
  await withSecureClient(
    ctx,
    async ({ client }) => {
      const number = await client.safetyNumber(accountId);
      if (ctx.json) ctx.io.out(JSON.stringify({ accountId, safetyNumber: number }));
      else
        ctx.io.out(`Safety number with ${who}:\n  ${number}\nCompare it with theirs in person or on a call.`);
    },
    { prepareOnly: true },
  );
}
