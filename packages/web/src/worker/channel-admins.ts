/**
 * Channel keys and admins on the web device (issue 16): the channel's secret key travels end to end,
 * in an MLS chat, from the owner's device to an admin's devices and to the owner's own other devices
 * (the SDK's ChannelClient.addAdmin, handOverKey and shareWithOwnDevices). Keys that arrive are
 * checked by the SDK (sender is the owner per the server, this account is owner or admin, the key is
 * the channel's) and kept in the worker's keyring (channel-store.ts); the person is told what came
 * of each, imported or refused and why.
 */
import { CourierError } from '@courier/protocol';
import type { ChannelClient, ChannelKeyOutcome, SecureClient } from '@courier/sdk';
import type { ChannelStore } from './channel-store.ts';
import type { DeviceEvent } from './types.ts';

const REFUSED: Record<Extract<ChannelKeyOutcome, { kind: 'refused' }>['reason'], string> = {
  not_owner: 'it did not come from the channel’s owner',
  not_admin: 'you are not an owner or admin of that channel',
  key_mismatch: 'it is not the key the channel shows (or the one you subscribed under)',
  unknown_channel: 'there is no such channel, or you cannot see it',
};

/** What the person is told about a handed-over key. */
export function keyOutcomeText(outcome: ChannelKeyOutcome): string {
  return outcome.kind === 'imported'
    ? `Channel key received for @${outcome.name}: this device can now post to it.`
    : `A channel key for @${outcome.name} was refused: ${REFUSED[outcome.reason]}. Nothing was kept.`;
}

export class ChannelAdmins {
  private readonly off: (() => void)[] = [];

  constructor(
    private readonly client: ChannelClient,
    private readonly secure: SecureClient,
    store: ChannelStore,
    private readonly emit: (event: DeviceEvent) => void,
  ) {
    this.off.push(
      client.followKeys(secure),
      client.on('key_handover', (outcome) => {
        // Kept in IndexedDB before the page hears of it (a reload right after still finds it).
        void store.flushed().then(() => {
          emit({
            kind: 'channel_key',
            channelId: outcome.channelId,
            imported: outcome.kind === 'imported',
            text: keyOutcomeText(outcome),
          });
          emit({ kind: 'channels' });
          emit({ kind: 'channel', channelId: outcome.channelId });
        });
      }),
      // The only problems this client reports here: a key that arrived but could not be checked
      // (kept in IndexedDB and checked again when the connection is back).
      client.on('problem', (error) =>
        emit({
          kind: 'problem',
          message: `A channel key arrived but could not be checked now (${error.message}). This device keeps it and checks it again when the server can be reached.`,
        }),
      ),
    );
  }

  stop(): void {
    for (const off of this.off.splice(0)) off();
  }

  /** Names an admin and hands them the key end to end (the owner's device). */
  async add(channelId: string, accountId: string): Promise<void> {
    await this.client.addAdmin(this.secure, channelId, accountId);
  }

  async remove(channelId: string, accountId: string): Promise<void> {
    await this.client.removeAdmin(channelId, accountId);
  }

  /** Sends the key again to an admin's devices (and the owner's other devices), or to my other devices. */
  async handOver(channelId: string, accountId: string): Promise<void> {
    await this.client.handOverKey(this.secure, channelId, accountId);
  }

  /** After making a channel: the key goes to this account's other devices, when there are any. */
  async shareIfOtherDevices(channelId: string): Promise<void> {
    const devices = await this.secure.http.devices();
    if (devices.length < 2) return;
    try {
      await this.client.shareWithOwnDevices(this.secure, channelId);
    } catch (error) {
      const code = error instanceof CourierError ? error.code : 'error';
      this.emit({
        kind: 'problem',
        message: `The channel was made, but its key could not be sent to your other devices now (${code}): "Send the key to my other devices" under Manage sends it.`,
      });
    }
  }
}
