import type { CourierError, GroupView } from '@courier/protocol';
import { SecureClient } from '@courier/sdk';
import { followChannelKeys } from './commands/channel-commands.ts';
import type { CommandContext } from './context.ts';
import type { DeviceStore } from './device-store.ts';
import { describeEndpoint, endpointFailoverFromEnv } from './endpoint-setup.ts';
import { Names } from './names.ts';
import { printable } from './terminal-text.ts';

export interface SecureSession {
  client: SecureClient;
  store: DeviceStore;
  /** True when this process holds the device's receiving connection (no listen/chat runs elsewhere). */
  receiving: boolean;
}

/**
 * Runs a command with this device's end-to-end-encrypted client. When no `listen` or `chat` of the
 * profile is running, it takes the device's connection and receives, so that its chats' groups are
 * current (what arrives is stored, and shown by the next `listen`); otherwise it only sends, and the
 * running process keeps the shared store current.
 */
export async function withSecureClient<T>(
  ctx: CommandContext,
  work: (session: SecureSession) => Promise<T>,
  options: { prepareOnly?: boolean } = {},
): Promise<T> {
  const session = ctx.profile.requireSession();
  const release = options.prepareOnly ? undefined : ctx.profile.tryClaimConnection();
  const store = ctx.profile.deviceStore();
  const failover = endpointFailoverFromEnv(ctx.profile.dir, process.env);
  const client = new SecureClient({
    url: ctx.profile.server(),
    token: session.token,
    accountId: session.accountId,
    deviceId: session.deviceId,
    store,
    client: 'courier-cli',
    readReceipts: store.readReceipts(),
    sendOnly: release === undefined,
    ...(failover ? { failover } : {}),
  });
  client.connection.on('endpoint', (endpoint) => {
    failover?.remember(endpoint);
    ctx.io.err(describeEndpoint(endpoint));
  });
  let fatal: CourierError | undefined;
  client.on('fatal', (error) => {
    fatal = error;
  });
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
  // A channel key the owner handed to this device is imported as this client decrypts it.
  if (!options.prepareOnly) followChannelKeys(ctx, client);
  try {
    // The connection comes up by itself; what needs the chats current waits for them.
    if (options.prepareOnly) await client.prepare();
    else await client.start();
    return await work({ client, store, receiving: release !== undefined });
  } catch (error) {
    throw fatal ?? error;
  } finally {
    await client.stop();
    store.close();
    release?.();
  }
}

/**
 * Opens direct chats the way `courier dm` does: through this device's secure client, which makes
 * the chat's encryption group when this device starts the chat (for resolveChat).
 */
export function secureDirectOpener(ctx: CommandContext): (accountId: string) => Promise<GroupView> {
  return (accountId) =>
    withSecureClient(ctx, ({ client }) => client.openDirect(accountId), { prepareOnly: true });
}
