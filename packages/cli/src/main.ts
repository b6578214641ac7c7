/**
 * courier: the command-line client. Each profile (--profile NAME, or --home DIR) is one device of
 * one person; run two profiles to be two people on one machine.
 *
 * Only commander loads up front: each command's module, the profile (SQLite, the SDK) and the error
 * catalog load when a command runs, so `courier --help` and mistyped commands answer at once.
 */
import { Command } from 'commander';
import type { ReportOptions } from './commands/report-command.ts';
import type { CommandContext } from './context.ts';
import type { LineReader } from './line-reader.ts';

const account = () => import('./commands/account-commands.ts');
const chats = () => import('./commands/chat-commands.ts');
const consent = () => import('./commands/consent-commands.ts');
const exporting = () => import('./commands/export-command.ts');
const files = () => import('./commands/file-commands.ts');
const messages = () => import('./commands/message-commands.ts');
const privacy = () => import('./commands/privacy-commands.ts');
const reporting = () => import('./commands/report-command.ts');
const verifying = () => import('./commands/verify-report.ts');
const actions = () => import('./commands/action-commands.ts');
const channels = () => import('./commands/channel-commands.ts');
const channelAdmins = () => import('./commands/channel-admin-commands.ts');
const stickers = () => import('./commands/sticker-commands.ts');

let answers: LineReader | undefined;

const program = new Command()
  .name('courier')
  .description('Courier on the command line')
  .option(
    '--profile <name>',
    'profile (device) to use: ~/.courier/<name> (default: COURIER_HOME, else "default")',
  )
  .option('--home <dir>', 'profile folder (overrides --profile; or COURIER_HOME)')
  .option('--server <url>', 'server URL (or COURIER_SERVER; default http://127.0.0.1:8080)')
  .option('--json', 'print data as JSON')
  .showHelpAfterError();

async function context(): Promise<CommandContext> {
  const [{ Profile }, { consoleIo }, { LineReader }] = await Promise.all([
    import('./profile.ts'),
    import('./output.ts'),
    import('./line-reader.ts'),
  ]);
  const options = program.opts<{ profile?: string; home?: string; server?: string; json?: boolean }>();
  const profile = new Profile({
    ...(options.profile ? { profile: options.profile } : {}),
    ...(options.home ? { home: options.home } : {}),
    ...(options.server ? { server: options.server } : {}),
  });
  const reader = new LineReader();
  answers = reader;
  return { profile, io: consoleIo, json: options.json ?? false, ask: (q) => reader.ask(q) };
}

/** An action that loads its command's module, then runs it with the context; errors as one line. */
const run =
  <M, A extends unknown[]>(
    load: () => Promise<M>,
    action: (module: M, ctx: CommandContext, ...args: A) => Promise<void>,
  ) =>
  async (...args: A) => {
    try {
      const [module, ctx] = await Promise.all([load(), context()]);
      await action(module, ctx, ...args);
    } catch (error) {
      const [{ CourierError, endsSession }, { consoleIo, describeError }] = await Promise.all([
        import('@courier/protocol'),
        import('./output.ts'),
      ]);
      consoleIo.err(describeError(error));
      if (endsSession(error))
        consoleIo.err('This device is signed out: "courier login <phone>" signs it in again.');
      if (error instanceof CourierError && error.code === 'ACCOUNT_SUSPENDED') {
        const appeal = error.details?.appeal;
        if (typeof appeal === 'string') consoleIo.err(appeal);
      }
      process.exitCode = 1;
    } finally {
      answers?.close();
    }
  };

/** `run` for a command whose function takes the context, then what commander passes, as they are. */
const call = <M, K extends keyof M>(load: () => Promise<M>, name: K) =>
  run(load, (module, ctx, ...args: unknown[]) =>
    (module[name] as (ctx: CommandContext, ...rest: unknown[]) => Promise<void>)(ctx, ...args),
  );

for (const intent of ['register', 'login'] as const) {
  program
    .command(`${intent} <phone>`)
    .description(
      intent === 'register' ? 'create an account (a code is sent by SMS)' : 'add this device to your account',
    )
    .option('--code <code>', 'verify a code sent by an earlier run (no new code is requested)')
    .option('--request-only', 'only request the code; finish later with --code')
    .option('--device-name <name>', 'a name for this device')
    .option('--accept-policy', 'accept the current privacy policy without asking')
    .action(
      run(
        account,
        (
          m,
          ctx,
          phone: string,
          o: { code?: string; deviceName?: string; requestOnly?: boolean; acceptPolicy?: boolean },
        ) => m.signIn(ctx, intent, phone, o),
      ),
    );
}
program
  .command('logout')
  .description('sign this device out')
  .action(run(account, (m, ctx) => m.logout(ctx)));
program
  .command('whoami')
  .description('show this account and device')
  .action(run(account, (m, ctx) => m.whoami(ctx)));
const username = program.command('username').description('your public @username');
username.command('set <name>').action(run(account, (m, ctx, name: string) => m.setUsername(ctx, name)));
username.command('clear').action(run(account, (m, ctx) => m.setUsername(ctx, null)));
program
  .command('profile')
  .command('name <displayName...>')
  .description('set your display name')
  .action(run(account, (m, ctx, words: string[]) => m.setDisplayName(ctx, words.join(' '))));
program
  .command('lookup <who>')
  .description('find someone by @username or +phone')
  .action(run(account, (m, ctx, who: string) => m.lookup(ctx, who)));
const devices = program
  .command('devices')
  .description('your devices')
  .action(run(account, (m, ctx) => m.devices(ctx)));
devices
  .command('revoke <deviceId>')
  .description('sign a device out')
  .action(run(account, (m, ctx, deviceId: string) => m.revokeDevice(ctx, deviceId)));

const privacyCommand = program.command('privacy').description('who sees and finds you; the privacy policy');
privacyCommand.command('show').action(run(privacy, (m, ctx) => m.showSettings(ctx)));
privacyCommand
  .command('set <setting> <value>')
  .description(
    'phone-visibility|phone-discovery|last-seen|group-add everybody|contacts|nobody; self-destruct 1|3|6|12; read-receipts on|off (this device)',
  )
  .action(run(privacy, (m, ctx, setting: string, value: string) => m.changeSetting(ctx, setting, value)));
privacyCommand
  .command('policy')
  .description('show the privacy policy in force')
  .action(run(privacy, (m, ctx) => m.showPolicy(ctx)));
privacyCommand
  .command('accept <version>')
  .description('accept a privacy-policy version')
  .action(run(privacy, (m, ctx, version: string) => m.acceptPolicy(ctx, version)));
program
  .command('export [file]')
  .description(
    'export your data: what the server holds (a job, with progress) and the chats on this device (zip)',
  )
  .action(run(exporting, (m, ctx, file: string | undefined) => m.exportData(ctx, file)));
program
  .command('delete-account')
  .description('delete your account and everything personal the server holds')
  .option('--confirm <phone>', 'your phone number, typed again')
  .action(run(privacy, (m, ctx, o: { confirm?: string }) => m.deleteAccount(ctx, o.confirm)));

program
  .command('verify-report')
  .description('recompute a transparency report from the public, signed log')
  .requiredOption('--period <period>', 'e.g. 2026-H2')
  .option('--key <verifierKey>', "the operator's verifier key (name+hash+key)")
  .option(
    '--origin <origin>',
    "the log's name, its checkpoints' origin line (default: as published, then pinned)",
  )
  .option('--trust-server-key', 'use the key the server publishes (weaker: it trusts the server)')
  .action(
    run(verifying, (m, ctx, o: { period: string; key?: string; origin?: string; trustServerKey?: boolean }) =>
      m.verifyReport(ctx, o),
    ),
  );

program
  .command('chats')
  .description('list your chats')
  .action(run(chats, (m, ctx) => m.listChats(ctx)));
program
  .command('dm <who>')
  .description('open the direct chat with @user or +phone')
  .action(run(chats, (m, ctx, who: string) => m.openDirect(ctx, who)));
program
  .command('requests')
  .description('message requests (chats strangers opened) and group invitations waiting for you')
  .action(run(consent, (m, ctx) => m.listRequests(ctx)));
program
  .command('accept <request>')
  .description(
    'accept a message request or an invitation: its chat id, @user or +phone who sent it, or a group title',
  )
  .action(run(consent, (m, ctx, request: string) => m.acceptRequest(ctx, request)));
program
  .command('decline <request>')
  .description('decline (delete) a message request or an invitation; the sender is not told')
  .action(run(consent, (m, ctx, request: string) => m.declineRequest(ctx, request)));
program
  .command('block <who>')
  .description('block @user, +phone or an account id: silent to them; their chat with you goes')
  .action(run(consent, (m, ctx, who: string) => m.block(ctx, who)));
program
  .command('unblock <who>')
  .description('unblock someone')
  .action(run(consent, (m, ctx, who: string) => m.unblock(ctx, who)));
program
  .command('blocks')
  .description('the people you blocked')
  .action(run(consent, (m, ctx) => m.listBlocks(ctx)));
program
  .command('leave <chat>')
  .description('leave any chat: a group, a direct chat (@user: the contact ends) or a request')
  .action(run(consent, (m, ctx, chat: string) => m.leave(ctx, chat)));
const group = program.command('group').description('groups');
group
  .command('create <title> [members...]')
  .action(run(chats, (m, ctx, title: string, members: string[]) => m.createGroup(ctx, title, members)));
group.command('show <chat>').action(run(chats, (m, ctx, chat: string) => m.showGroup(ctx, chat)));
group
  .command('add <chat> <members...>')
  .action(run(chats, (m, ctx, chat: string, members: string[]) => m.addMembers(ctx, chat, members)));
group
  .command('remove <chat> <member>')
  .action(run(chats, (m, ctx, chat: string, member: string) => m.removeMember(ctx, chat, member)));
group.command('leave <chat>').action(run(chats, (m, ctx, chat: string) => m.leaveGroup(ctx, chat)));
group
  .command('promote <chat> <member>')
  .action(run(chats, (m, ctx, chat: string, member: string) => m.setRole(ctx, chat, member, 'admin')));
group
  .command('demote <chat> <member>')
  .action(run(chats, (m, ctx, chat: string, member: string) => m.setRole(ctx, chat, member, 'member')));

program
  .command('send <chat> <text...>')
  .description('send a message; returns once the server has stored it, with its number')
  .option('--wait <seconds>', 'give up waiting after this long (the message stays in the outbox)', '30')
  .action(
    run(messages, (m, ctx, chat: string, words: string[], o: { wait: string }) =>
      m.send(ctx, chat, words, o),
    ),
  );
program
  .command('listen [chat]')
  .description('print new messages as they arrive (Ctrl-C to stop); resumes where it stopped')
  .action(run(messages, (m, ctx, chat: string | undefined) => m.listen(ctx, chat)));
program
  .command('send-file <chat> <path>')
  .description('send a file, end-to-end encrypted; resumes an interrupted upload; progress on stderr')
  .action(run(files, (m, ctx, chat: string, path: string) => m.sendFile(ctx, chat, path)));
program
  .command('download <message> [path]')
  .description('fetch and decrypt a received file (its id as listen shows it); progress on stderr')
  .action(run(files, (m, ctx, ref: string, path: string | undefined) => m.download(ctx, ref, path)));
const sticker = program.command('sticker').description('sticker packs: make, share, add and send stickers');
const stickerPack = sticker.command('pack').description('sticker packs');
stickerPack
  .command('create <short> <title...>')
  .description('make a sticker pack you own, with a short name (its link) and a title')
  .action(run(stickers, (m, ctx, short: string, title: string[]) => m.createPack(ctx, short, title)));
stickerPack
  .command('show <pack>')
  .description("a pack's title, link and stickers (short name or link)")
  .action(call(stickers, 'showPack'));
stickerPack
  .command('add <pack>')
  .description("add someone's pack to your packs (short name or link)")
  .action(call(stickers, 'addPack'));
stickerPack
  .command('delete <short>')
  .description('delete a pack you own')
  .action(call(stickers, 'deletePack'));
sticker
  .command('packs')
  .description('the packs you added on this device')
  .action(call(stickers, 'listPacks'));
sticker
  .command('add <short> <file> <emoji>')
  .description('upload a sticker to your pack: PNG or WebP (animated WebP too), 512 px on one side')
  .action(
    run(stickers, (m, ctx, short: string, file: string, emoji: string) =>
      m.addSticker(ctx, short, file, emoji),
    ),
  );
sticker
  .command('remove <short> <index>')
  .description('delete a sticker of your pack')
  .action(run(stickers, (m, ctx, short: string, index: string) => m.removeSticker(ctx, short, index)));
sticker
  .command('send <chat> <pack> <sticker>')
  .description('send a sticker (its index or emoji) of a pack to a chat')
  .action(
    run(stickers, (m, ctx, chat: string, pack: string, choice: string) =>
      m.sendSticker(ctx, chat, pack, choice),
    ),
  );
const channel = program
  .command('channel')
  .description('broadcast channels: public posts, not end-to-end encrypted, signed by the channel key');
channel
  .command('create <name> <title...>')
  .description('create a channel (@name, title); public unless --private')
  .option('--private', 'joined only with an invite link')
  .option('--description <text>', 'what the channel says of itself (shown on its page and in previews)')
  .action(call(channels, 'createChannel'));
channel
  .command('post <channel> [text...]')
  .description('post a text, or a photo, video or file (--file), to a channel you own or administer')
  .option('--file <path>', 'post this file (its key goes in the public post: subscribers can open it)')
  .action(call(channels, 'postToChannel'));
channel
  .command('download <channel> <postId> [path]')
  .description("save a post's file (checked against the post's digest)")
  .action(call(channels, 'downloadChannelFile'));
channel
  .command('edit <channel> [postId] [text...]')
  .description(
    "edit a post (<postId> <text>), or the channel's title and description (--title, --description; owner and admins)",
  )
  .option('--title <text>', "the channel's new title (1 to 128 characters)")
  .option('--description <text>', 'what the channel says of itself now ("" clears it)')
  .action(call(channels, 'editChannel'));
channel
  .command('delete-post <channel> <postId>')
  .description('delete a post')
  .action(call(channels, 'deleteChannelPost'));
channel
  .command('subscribe <target>')
  .description('subscribe by @name (public channels) or an invite link')
  .action(call(channels, 'subscribeChannel'));
channel.command('unsubscribe <channel>').action(call(channels, 'unsubscribeChannel'));
channel
  .command('show [channel]')
  .description('your channels, or a channel and its posts, or (--invite) what an invite link leads to')
  .option('--last <n>', 'how many posts to show', '20')
  .option('--invite <link>', "an invite link's channel (title, name, subscribers, key) without joining")
  .action(call(channels, 'showChannel'));
channel
  .command('invite <channel>')
  .description('make an invite link (or --list them, or --revoke one)')
  .option('--revoke <inviteId>', 'revoke an invite link')
  .option('--list', 'list the invite links')
  .action(call(channels, 'channelInvite'));
const channelAdmin = channel
  .command('admin')
  .description('name or remove admins (owner only); the channel key goes to them end to end');
channelAdmin
  .command('add <channel> <who>')
  .description('make someone an admin and send them the channel key in your direct chat')
  .action(call(channelAdmins, 'addChannelAdmin'));
channelAdmin
  .command('list <channel>')
  .description("the channel's owner and admins (owner and admins only)")
  .action(call(channelAdmins, 'listChannelAdmins'));
channelAdmin
  .command('remove <channel> <who>')
  .description('take the admin role back (the server refuses their posts from now on)')
  .action(call(channelAdmins, 'removeChannelAdmin'));
channelAdmin
  .command('send-key <channel> [who]')
  .description("send an admin's devices (or, without who, your other devices) the channel key again")
  .action(call(channelAdmins, 'sendChannelKey'));
program
  .command('chat <chat>')
  .description('interactive chat')
  .action(run(messages, (m, ctx, chat: string) => m.interactiveChat(ctx, chat)));
program
  .command('report <chat>')
  .description(
    'report a chat or @user to the moderators: shows exactly which messages (from this device) would be sent, then asks',
  )
  .option('--last <n>', "forward the chat's last n messages held on this device (default 10, at most 50)")
  .option('--reason <reason>', 'spam, abuse, illegal or other')
  .option('--comment <text>', 'a note for the moderators')
  .option('--yes', 'send without asking (the preview is still printed)')
  .action(run(reporting, (m, ctx, chat: string, o: ReportOptions) => m.report(ctx, chat, o)));
program
  .command('history <chat>')
  .description('a page of a chat as this device keeps it (newest page first; --before for older ones)')
  .option('--before <cursor>', 'the page before this point (as the previous page printed)')
  .option('--limit <n>', 'messages per page (1 to 500)', '20')
  .action(
    run(messages, (m, ctx, chat: string, o: { before?: string; limit: string }) => m.history(ctx, chat, o)),
  );
program
  .command('reply <chat> <message> <text...>')
  .description('answer a message, quoting it (the message as history shows it: #12)')
  .action(run(actions, (m, ctx, chat: string, id: string, text: string[]) => m.reply(ctx, chat, id, text)));
program
  .command('forward <chat> <message> <to>')
  .description(
    'forward a text or a file message to another chat (encrypted again for it; a file is not uploaded again)',
  )
  .action(run(actions, (m, ctx, chat: string, id: string, to: string) => m.forward(ctx, chat, id, to)));
program
  .command('edit <chat> <message> <text...>')
  .description('change the text of a message you sent; shown as edited')
  .action(run(actions, (m, ctx, chat: string, id: string, text: string[]) => m.edit(ctx, chat, id, text)));
program
  .command('delete <chat> <message>')
  .description('delete a message you sent, for everyone (cannot be guaranteed on modified clients)')
  .action(run(actions, (m, ctx, chat: string, id: string) => m.deleteMessage(ctx, chat, id)));
program
  .command('react <chat> <message> <emoji>')
  .description('react to a message with an emoji (--remove takes it back)')
  .option('--remove', 'take the reaction back')
  .action(
    run(actions, (m, ctx, chat: string, id: string, emoji: string, o: { remove?: boolean }) =>
      m.react(ctx, chat, id, emoji, o),
    ),
  );
program
  .command('safety <who>')
  .description('the safety number you share with someone: compare it with theirs out of band')
  .action(run(messages, (m, ctx, who: string) => m.safety(ctx, who)));

await program.parseAsync(process.argv);
