import { createInterface } from 'node:readline';
import { CourierError, type EntryFrame } from '@courier/protocol';
import { CourierConnection } from '@courier/sdk';
import type { CommandContext } from '../context.ts';
import { EntryPrinter } from '../entry-printer.ts';
import { Names } from '../names.ts';
import { encodeText } from '../plaintext-codec.ts';
import { resolveChat } from '../resolve.ts';

type EntryHandler = (entry: EntryFrame) => Promise<undefined | false>;

/** A connection of this profile's device; `onFatal` runs when the server ends the session for good. */
function connect(
  ctx: CommandContext,
  onEntry: EntryHandler,
  onFatal: (error: CourierError) => void,
  sendOnly = false,
) {
  const session = ctx.profile.requireSession();
  const connection = new CourierConnection({
    url: ctx.profile.server(),
    token: session.token,
    store: ctx.profile.store((n) =>
      ctx.io.err(`(${n} message(s) queued by this profile's previous device were never accepted; dropped)`),
    ),
    client: 'courier-cli',
    onEntry,
    sendOnly,
  });
  connection.on('fatal', onFatal);
  return connection;
}

function printer(ctx: CommandContext): EntryPrinter {
  const session = ctx.profile.requireSession();
  const http = ctx.profile.http();
  return new EntryPrinter(http, new Names(http), session.accountId);
}

export async function send(
  ctx: CommandContext,
  chat: string,
  words: string[],
  options: { wait: string },
): Promise<void> {
  ctx.profile.requireSession();
  const group = await resolveChat(ctx.profile.http(), chat);
  const waitMs = Number(options.wait) * 1000;
  if (!(waitMs > 0)) throw new CourierError('REQ_INVALID', { message: '--wait takes a number of seconds.' });
  let fatal: CourierError | undefined;
  // A send-only connection: nothing is pushed to it, and a running `listen` of this profile keeps its own.
  const connection = connect(
    ctx,
    async () => false,
    (error) => {
      fatal = error;
    },
    true,
  );
  connection.start();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new CourierError('SERVER_UNAVAILABLE', {
            message: `The server did not accept the message within ${options.wait} s. It stays in this profile's outbox and goes out with the next send, listen or chat.`,
          }),
        ),
      waitMs,
    );
  });
  try {
    const accepted = await Promise.race([
      connection.send(group.groupId, encodeText(words.join(' '))),
      timeout,
    ]);
    if (ctx.json) ctx.io.out(JSON.stringify({ groupId: group.groupId, ...accepted }));
    else ctx.io.out(`Sent to ${chat} (#${accepted.seq}).`);
  } catch (error) {
    throw fatal ?? error;
  } finally {
    clearTimeout(timer);
    await connection.stop();
  }
}

/**
 * Runs until Ctrl-C (or SIGTERM), or until the server ends the session; then stops cleanly:
 * entries being handled finish, acknowledgements are flushed, the socket is closed.
 */
function untilStopped(connection: CourierConnection): Promise<CourierError | undefined> {
  return new Promise((resolve) => {
    const finish = (error?: CourierError) => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      void connection.stop().then(() => resolve(error));
    };
    const onSignal = () => finish();
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    connection.on('fatal', (error) => finish(error));
  });
}

export async function listen(ctx: CommandContext, chat: string | undefined): Promise<void> {
  ctx.profile.requireSession();
  const only = chat === undefined ? undefined : (await resolveChat(ctx.profile.http(), chat)).groupId;
  const release = ctx.profile.claimConnection('listen');
  try {
    const print = printer(ctx);
    const connection = connect(
      ctx,
      async (entry) => {
        // Another chat's entries stay unseen, for a later `listen` without a chat.
        if (only !== undefined && entry.groupId !== only) return false;
        ctx.io.out(ctx.json ? await print.json(entry) : await print.line(entry));
        return undefined;
      },
      () => {},
    );
    connection.on('state', (state) => {
      if (!ctx.json) ctx.io.err(`(${state === 'ready' ? 'connected' : state})`);
    });
    connection.start();
    const fatal = await untilStopped(connection);
    if (fatal) throw fatal;
  } finally {
    release();
  }
}

export async function interactiveChat(ctx: CommandContext, chat: string): Promise<void> {
  ctx.profile.requireSession();
  const group = await resolveChat(ctx.profile.http(), chat);
  const release = ctx.profile.claimConnection('chat');
  try {
    await runChat(ctx, group.groupId);
  } finally {
    release();
  }
}

/** Incoming lines are printed above the prompt; each typed line is sent. */
async function runChat(ctx: CommandContext, groupId: string): Promise<void> {
  const print = printer(ctx);
  const tty = process.stdin.isTTY && process.stdout.isTTY;
  const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: tty });
  const show = (line: string) => {
    if (!tty) return ctx.io.out(line);
    process.stdout.write('\r\x1b[K');
    ctx.io.out(line);
    rl.prompt(true);
  };
  let fatal: CourierError | undefined;
  const connection = connect(
    ctx,
    async (entry) => {
      if (entry.groupId !== groupId) return false;
      show(await print.line(entry));
      return undefined;
    },
    (error) => {
      fatal = error;
      rl.close();
    },
  );
  connection.start();
  if (tty) ctx.io.err(`Chatting in ${await print.title(groupId)}; Ctrl-C or Ctrl-D to stop.`);
  rl.setPrompt('> ');
  if (tty) rl.prompt();
  const sending = new Set<Promise<unknown>>();
  rl.on('line', (line) => {
    const text = line.trim();
    if (text.length > 0) {
      const sent = connection
        .send(groupId, encodeText(text))
        .catch((error: CourierError) => {
          if (error.code !== 'CLIENT_STOPPED') show(`(not sent: ${error.code} ${error.message})`);
        })
        .finally(() => sending.delete(sent));
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
      process.off('SIGINT', onTerm);
      process.off('SIGTERM', onTerm);
      if (waitForSends && !fatal) await Promise.allSettled([...sending]);
      else if (sending.size > 0)
        ctx.io.err(`(${sending.size} not yet accepted: they stay in the outbox and go out next time)`);
      await connection.stop();
      resolve();
    };
    const onTerm = () => {
      void finish(false);
      rl.close();
    };
    rl.on('SIGINT', onTerm); // Ctrl-C at the terminal
    rl.on('close', () => void finish(true)); // Ctrl-D, or the end of piped input
    process.once('SIGINT', onTerm);
    process.once('SIGTERM', onTerm);
  });
  if (fatal) throw fatal;
}
