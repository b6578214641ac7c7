import { hostname } from 'node:os';
import { type AuthIntent, CourierError, endsSession, type VerifyCodeReply } from '@courier/protocol';
import { CourierHttp } from '@courier/sdk';
import type { CommandContext } from '../context.ts';
import { show } from '../output.ts';
import { resolveAccount } from '../resolve.ts';
import { withSecureClient } from '../secure-session.ts';
import { printable } from '../terminal-text.ts';

/** A profile is one device: signing in again would orphan the device that is signed in. */
async function refuseOverLiveSession(ctx: CommandContext): Promise<void> {
  const session = ctx.profile.session();
  if (!session) return;
  try {
    await ctx.profile.http().me();
  } catch (error) {
    // The old device is signed out already: forget it, and sign in as a new one.
    if (endsSession(error)) {
      ctx.profile.forgetDevice();
      return;
    }
    throw error;
  }
  throw new Error(
    `this profile (${ctx.profile.dir}) is signed in as ${session.phone}: "courier logout" first, or use another --profile`,
  );
}

/**
 * register / login: request a code by SMS, read it, and store the new device's session. With
 * --code, the code was sent by an earlier run (e.g. --request-only), so only verify it. The
 * current privacy policy is accepted at sign-up, and at the first login after it changed.
 */
export async function signIn(
  ctx: CommandContext,
  intent: AuthIntent,
  phone: string,
  options: { code?: string; deviceName?: string; requestOnly?: boolean; acceptPolicy?: boolean },
): Promise<void> {
  await refuseOverLiveSession(ctx);
  const server = ctx.profile.server();
  ctx.profile.rememberServer(server);
  const http = new CourierHttp(server);
  let code = options.code;
  let number = phone;
  let verificationId: string | undefined;
  if (code === undefined) {
    const sent = await http.requestCode(phone);
    number = sent.phone;
    verificationId = sent.verificationId;
    ctx.profile.savePendingVerification({ server, phones: [phone, sent.phone], verificationId });
    if (options.requestOnly) {
      const { verificationId: _kept, ...shown } = sent;
      show(ctx.io, ctx.json, shown, () => [`Code sent to ${sent.phone}; finish with --code <code>.`]);
      return;
    }
    code = (await ctx.ask(`Code sent to ${sent.phone}: `)).trim();
  } else {
    verificationId = ctx.profile.pendingVerification(server, phone);
    if (verificationId === undefined) {
      throw new CourierError('AUTH_CODE_EXPIRED', {
        message: `No code was requested for ${phone} from this profile; run without --code (or with --request-only) first.`,
      });
    }
  }
  const deviceName = options.deviceName ?? `cli@${hostname()}`;
  const policy = await http.privacyPolicy();
  const agree = async (): Promise<string> => {
    if (options.acceptPolicy) return policy.version;
    ctx.io.err(`Courier's privacy policy, version ${policy.version}: ${new URL('/privacy', server)}`);
    const answer = (await ctx.ask('Do you accept it? [y/N] ')).trim().toLowerCase();
    if (answer !== 'y' && answer !== 'yes') {
      throw new CourierError('PRIVACY_POLICY_NOT_ACCEPTED', {
        message: 'You did not accept the privacy policy.',
      });
    }
    return policy.version;
  };
  // register and login are the same call: the server creates the account if the number has none.
  // A mistyped code is typed again at the prompt (or given again with --code): the code sent stays
  // valid, so no new SMS is needed, until the server's attempts run out.
  const typed = options.code === undefined;
  let given: string = code;
  const verify = async (accept?: string): Promise<VerifyCodeReply> => {
    for (;;) {
      try {
        return await http.verifyCode(number, given, undefined, deviceName, accept, verificationId);
      } catch (error) {
        if (!(error instanceof CourierError) || error.code !== 'AUTH_CODE_INVALID') throw error;
        if (!typed)
          throw new CourierError('AUTH_CODE_INVALID', {
            message: `${error.message} The code sent stays valid: give it again with --code (no new SMS is sent).`,
            cause: error,
          });
        ctx.io.err('That code is not right.');
        given = (await ctx.ask(`Type the code sent to ${number} again: `)).trim();
      }
    }
  };
  let reply: VerifyCodeReply;
  if (intent === 'register') {
    reply = await verify(await agree());
  } else {
    try {
      reply = await verify();
    } catch (error) {
      if (!(error instanceof CourierError) || error.code !== 'PRIVACY_POLICY_NOT_ACCEPTED') throw error;
      reply = await verify(await agree());
    }
  }
  ctx.profile.clearPendingVerification();
  ctx.profile.saveSession({
    server,
    token: reply.token,
    accountId: reply.accountId,
    deviceId: reply.deviceId,
    phone: number,
  });
  // The device's MLS identity and key packages are made now, so others can add it to chats at once.
  await withSecureClient(ctx, async () => {}, { prepareOnly: true });
  const { token: _secret, ...shown } = reply;
  show(ctx.io, ctx.json, shown, () => [
    `${reply.created ? 'Registered' : 'Logged in'} ${number} as ${reply.accountId} (device ${reply.deviceId}).`,
  ]);
}

export async function logout(ctx: CommandContext): Promise<void> {
  ctx.profile.requireSession();
  try {
    await ctx.profile.http().logout();
  } catch (error) {
    // A session the server no longer knows is over already: forget it here too.
    if (!endsSession(error)) throw error;
  }
  ctx.profile.forgetDevice();
  ctx.io.out(
    'Logged out: this device is signed out, and its keys and messages are erased from this machine.',
  );
}

export async function whoami(ctx: CommandContext): Promise<void> {
  const session = ctx.profile.requireSession();
  const me = await ctx.profile.http().me();
  show(ctx.io, ctx.json, { ...me, deviceId: session.deviceId, server: session.server }, () => [
    [me.username ? `@${me.username}` : '(no username)', printable(me.displayName), me.phone]
      .filter(Boolean)
      .join(' '),
    `account ${me.accountId}, device ${session.deviceId}, server ${session.server}`,
  ]);
}

export async function setUsername(ctx: CommandContext, username: string | null): Promise<void> {
  ctx.profile.requireSession();
  const me = await ctx.profile.http().setUsername(username);
  show(ctx.io, ctx.json, me, () => [
    me.username ? `Your username is @${me.username}.` : 'Your username is cleared.',
  ]);
}

export async function setDisplayName(ctx: CommandContext, name: string): Promise<void> {
  ctx.profile.requireSession();
  const me = await ctx.profile.http().setDisplayName(name);
  show(ctx.io, ctx.json, me, () => [`Your display name is "${printable(me.displayName)}".`]);
}

export async function lookup(ctx: CommandContext, who: string): Promise<void> {
  ctx.profile.requireSession();
  const http = ctx.profile.http();
  const user = await http.lookup({ accountId: await resolveAccount(http, who) });
  show(ctx.io, ctx.json, user, () => [
    [
      user.username ? `@${user.username}` : '(no username)',
      printable(user.displayName),
      user.phone,
      `(${user.accountId})`,
    ]
      .filter(Boolean)
      .join(' '),
  ]);
}

export async function devices(ctx: CommandContext): Promise<void> {
  ctx.profile.requireSession();
  const list = await ctx.profile.http().devices();
  show(ctx.io, ctx.json, list, () =>
    list.map(
      (d) =>
        `${d.current ? '*' : ' '} ${d.deviceId}  ${printable(d.name)}  since ${new Date(d.createdAtMs).toISOString()}` +
        (d.lastSeenAtMs ? `  last seen ${new Date(d.lastSeenAtMs).toISOString()}` : ''),
    ),
  );
}

export async function revokeDevice(ctx: CommandContext, deviceId: string): Promise<void> {
  const session = ctx.profile.requireSession();
  await ctx.profile.http().revokeDevice(deviceId);
  if (deviceId === session.deviceId) {
    ctx.profile.forgetDevice();
    ctx.io.out(
      `Device ${deviceId} (this one) is signed out, and its keys and messages are erased from this machine.`,
    );
  } else ctx.io.out(`Device ${deviceId} is signed out.`);
}
