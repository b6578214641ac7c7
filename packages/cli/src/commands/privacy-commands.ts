import { CourierError, type PrivacySettingsView } from '@courier/protocol';
import type { CommandContext } from '../context.ts';
import { show } from '../output.ts';

const settingNames: Record<string, keyof PrivacySettingsView> = {
  'phone-visibility': 'phoneVisibility',
  'phone-discovery': 'phoneDiscovery',
  'last-seen': 'lastSeenVisibility',
  'self-destruct': 'selfDestructMonths',
  'group-add': 'groupAdd',
};

export async function showSettings(ctx: CommandContext): Promise<void> {
  ctx.profile.requireSession();
  const s = await ctx.profile.http().privacySettings();
  const store = ctx.profile.deviceStore();
  let readReceipts: boolean;
  try {
    readReceipts = store.readReceipts();
  } finally {
    store.close();
  }
  show(ctx.io, ctx.json, { ...s, readReceipts }, () => [
    `phone-visibility  ${s.phoneVisibility}   (who sees your phone number)`,
    `phone-discovery   ${s.phoneDiscovery}   (who finds you by your phone number)`,
    `last-seen         ${s.lastSeenVisibility}   (who sees the day you were last seen)`,
    `self-destruct     ${s.selfDestructMonths} months   (your account is deleted after this long unused)`,
    `group-add         ${s.groupAdd}   (who may put you in a group; anyone else's add is an invitation)`,
    `read-receipts     ${readReceipts ? 'on' : 'off'}   (on this device: whether you and others see reads)`,
    '("contacts" are the people you share a direct chat with that both of you accepted)',
  ]);
}

export async function changeSetting(ctx: CommandContext, setting: string, value: string): Promise<void> {
  ctx.profile.requireSession();
  if (setting === 'read-receipts') {
    if (value !== 'on' && value !== 'off')
      throw new CourierError('REQ_INVALID', { message: 'read-receipts is on or off.' });
    const store = ctx.profile.deviceStore();
    try {
      store.setReadReceipts(value === 'on');
    } finally {
      store.close();
    }
    ctx.io.out(
      value === 'on'
        ? 'read-receipts is now on: people see when you read their messages, and you see when they read yours.'
        : 'read-receipts is now off: nobody sees when you read, and you do not see when others read (delivered marks stay).',
    );
    return;
  }
  const key = settingNames[setting];
  if (!key)
    throw new CourierError('REQ_INVALID', {
      message: `Unknown setting "${setting}": ${[...Object.keys(settingNames), 'read-receipts'].join(', ')}.`,
    });
  const allowed = key === 'selfDestructMonths' ? ['1', '3', '6', '12'] : ['everybody', 'contacts', 'nobody'];
  if (!allowed.includes(value))
    throw new CourierError('REQ_INVALID', { message: `${setting} is one of: ${allowed.join(', ')}.` });
  const change = {
    [key]: key === 'selfDestructMonths' ? Number(value) : value,
  } as Partial<PrivacySettingsView>;
  await ctx.profile.http().updatePrivacySettings(change);
  ctx.io.out(`${setting} is now ${value}.`);
}

export async function showPolicy(ctx: CommandContext): Promise<void> {
  const policy = await ctx.profile.http().privacyPolicy();
  show(ctx.io, ctx.json, policy, () => [
    policy.markdown,
    `(version ${policy.version}, sha256 ${policy.sha256})`,
  ]);
}

export async function acceptPolicy(ctx: CommandContext, version: string): Promise<void> {
  ctx.profile.requireSession();
  await ctx.profile.http().acceptPolicy(version);
  ctx.io.out(`You accepted privacy-policy version ${version}.`);
}

export async function deleteAccount(ctx: CommandContext, confirm: string | undefined): Promise<void> {
  const session = ctx.profile.requireSession();
  const typed =
    confirm ??
    (
      await ctx.ask(
        `This deletes your account for good. Type your phone number (${session.phone}) to confirm: `,
      )
    ).trim();
  const reply = await ctx.profile.http().deleteAccount(typed);
  // The server has erased the account: now what this machine holds of it (the decrypted history).
  const { left } = ctx.profile.eraseLocalData();
  ctx.io.out('Your account is deleted.');
  ctx.io.out(
    `Erased from this machine: this profile (${ctx.profile.dir}): its messages, keys, outbox and session.`,
  );
  if (left.length > 0) ctx.io.out(`Left in that folder, as not Courier's: ${left.join(', ')}`);
  ctx.io.out(
    'What stays: messages you sent stay with the people you sent them to; exports you saved stay where you saved them; ' +
      'other devices of yours (other profiles, phones) keep their copy until they are erased there (their sessions have ended).',
  );
  if (reply.legalHold)
    ctx.io.out('A legal obligation keeps your phone number and some connection records until it ends.');
}
