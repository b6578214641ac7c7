import { createInterface } from 'node:readline';
import type { EntryFrame } from '@courier/protocol';
import { CourierConnection } from '@courier/sdk';
import type { CommandContext } from '../context.ts';
import { Names } from '../names.ts';
import { decodeText, encodeText } from '../plaintext-codec.ts';
import { resolveChat } from '../resolve.ts';

/** Formats entries as `[chat] @sender: text`, with chat titles and names looked up once. */
class EntryPrinter {
  private readonly titles = new Map<string, string>();

  constructor(
    private readonly ctx: CommandContext,
    private readonly names: Names,
    private readonly me: string,
  ) {}

  private async title(groupId: string): Promise<string> {
    const known = this.titles.get(groupId);
    if (known) return known;
    let title = groupId;
    try {
      const chat = await this.ctx.profile.http().group(groupId);
      const other = chat.members.find((m) => m.accountId !== this.me)?.accountId;
      title = chat.kind === 'group' ? chat.title : other ? await this.names.of(other) : 'direct';
    } catch {
      // A chat I have left: keep its id.
    }
    this.titles.set(groupId, title);
    return title;
  }

  async format(entry: EntryFrame): Promise<string> {
    const where = await this.title(entry.groupId);
    if (entry.kind === 'roster') return `[${where}] * ${await this.names.roster(entry.payload)}`;
    return `[${where}] ${await this.names.of(entry.senderAccountId)}: ${decodeText(entry.payload)}`;
  }

  json(entry: EntryFrame, text: string): string {
    return JSON.stringify({
      groupId: entry.groupId,
      seq: entry.seq,
      kind: entry.kind,
      from: entry.senderAccountId,
      sentAtMs: entry.sentAtMs,
      text,
    });
  }
}

function connect(ctx: CommandContext, onEntry?: (entry: EntryFrame) => Promise<undefined | false>) {
  const session = ctx.profile.requireSession();
  const connection = new CourierConnection({
    url: session.server,
    token: session.token,
    store: ctx.profile.store(),
    client: 'courier-cli',
    ...(onEntry ? { onEntry } : {}),
  });
  connection.on('fatal', (error) => {
    ctx.io.err(`error ${error.code}: ${error.message}`);
    process.exitCode = 1;
  });
  return { session, connection };
}

export async function send(ctx: CommandContext, chat: string, words: string[]): Promise<void> {
  const http = ctx.profile.http();
  ctx.profile.requireSession();
  const group = await resolveChat(http, chat);
  // Handle no incoming entries here: `listen` shows them.
  const { connection } = connect(ctx, async () => false);
  connection.start();
  try {
    const accepted = await connection.send(group.groupId, encodeText(words.join(' ')));
    if (ctx.json) ctx.io.out(JSON.stringify({ groupId: group.groupId, ...accepted }));
    else ctx.io.out(`Sent to ${group.title || chat} (#${accepted.seq}).`);
  } finally {
    await connection.stop();
  }
}

/** Runs until Ctrl-C; resolves after a clean stop (acks flushed). */
function untilInterrupted(stop: () => Promise<void>): Promise<void> {
  return new Promise((resolve) => {
    const onSignal = () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      void stop().then(resolve);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

export async function listen(ctx: CommandContext, chat: string | undefined): Promise<void> {
  const session = ctx.profile.requireSession();
  const http = ctx.profile.http();
  const only = chat === undefined ? undefined : (await resolveChat(http, chat)).groupId;
  const printer = new EntryPrinter(ctx, new Names(http), session.accountId);
  const { connection } = connect(ctx, async (entry) => {
    if (only !== undefined && entry.groupId !== only) return false;
    ctx.io.out(ctx.json ? printer.json(entry, decodeText(entry.payload)) : await printer.format(entry));
    return undefined;
  });
  connection.on('state', (state) => {
    if (!ctx.json) ctx.io.err(`(${state})`);
  });
  connection.start();
  await untilInterrupted(() => connection.stop());
}

export async function interactiveChat(ctx: CommandContext, chat: string): Promise<void> {
  const session = ctx.profile.requireSession();
  const http = ctx.profile.http();
  const group = await resolveChat(http, chat);
  const printer = new EntryPrinter(ctx, new Names(http), session.accountId);
  const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: process.stdin.isTTY });
  const print = (line: string) => {
    if (process.stdout.isTTY) {
      process.stdout.write('\r\x1b[K');
      ctx.io.out(line);
      rl.prompt(true);
    } else {
      ctx.io.out(line);
    }
  };
  const { connection } = connect(ctx, async (entry) => {
    if (entry.groupId !== group.groupId) return false;
    print(await printer.format(entry));
    return undefined;
  });
  connection.start();
  rl.setPrompt('> ');
  rl.prompt();
  const sending = new Set<Promise<unknown>>();
  rl.on('line', (line) => {
    const text = line.trim();
    if (text.length > 0) {
      const sent = connection
        .send(group.groupId, encodeText(text))
        .catch((error: Error) => print(`(not sent yet: ${error.message})`))
        .finally(() => sending.delete(sent));
      sending.add(sent);
    }
    rl.prompt();
  });
  await new Promise<void>((resolve) => {
    let finishing = false;
    // At the end of input, what was typed is stored before we go; on Ctrl-C, it stays in the outbox.
    const finish = async (waitForSends: boolean) => {
      if (finishing) return;
      finishing = true;
      if (waitForSends) await Promise.allSettled([...sending]);
      await connection.stop();
      resolve();
    };
    rl.on('SIGINT', () => {
      void finish(false);
      rl.close();
    });
    rl.on('close', () => void finish(true));
    process.once('SIGTERM', () => void finish(false));
  });
}
