import type { ChannelKeyContent } from '../content/channel-key-content.ts';

/**
 * A channel key handed over in a chat that this device has not been able to check with the server
 * yet (SecureClient's `channel_key` event, as it arrived). Kept until the check answers.
 */
export interface HeldChannelKeyHandover {
  groupId: string;
  seq: number;
  senderAccountId: string;
  senderDeviceId: string;
  content: ChannelKeyContent;
}

/**
 * What a client keeps about channels: the public key pinned for each channel on subscribe, the
 * channel's secret key where this device may post (the owner's and admins' devices), and how far it
 * has read, and the handed-over keys not checked yet. Memory here; the CLI keeps the same in a file
 * of its profile, the web app in the worker's IndexedDB.
 */
export interface ChannelKeyring {
  /** The key pinned for the channel (base64), if any. */
  pinned(channelId: string): string | undefined;
  pin(channelId: string, publicKey: string): void;
  /** The channel's secret key (32 bytes) on a device that may post. */
  secretKey(channelId: string): Uint8Array | undefined;
  setSecretKey(channelId: string, secretKey: Uint8Array): void;
  cursor(channelId: string): number;
  setCursor(channelId: string, seq: number): void;
  /** Forgets the channel (after unsubscribing): its pin, cursor and any secret key. */
  forget(channelId: string): void;
  /** Handed-over keys waiting for their check, oldest first. */
  heldHandovers(): HeldChannelKeyHandover[];
  /** Keeps a handover until it is checked (the same chat position again replaces it). */
  holdHandover(handover: HeldChannelKeyHandover): void;
  /** Drops the handover at this chat position (checked: imported or refused). */
  dropHandover(groupId: string, seq: number): void;
}

/** The one place a held handover is named: its chat and position in it. */
export const handoverKey = (h: { groupId: string; seq: number }) => `${h.groupId}#${h.seq}`;

export class MemoryChannelKeyring implements ChannelKeyring {
  private readonly pins = new Map<string, string>();
  private readonly secrets = new Map<string, Uint8Array>();
  private readonly cursors = new Map<string, number>();
  private readonly handovers = new Map<string, HeldChannelKeyHandover>();

  pinned(channelId: string): string | undefined {
    return this.pins.get(channelId);
  }
  pin(channelId: string, publicKey: string): void {
    this.pins.set(channelId, publicKey);
  }
  secretKey(channelId: string): Uint8Array | undefined {
    return this.secrets.get(channelId);
  }
  setSecretKey(channelId: string, secretKey: Uint8Array): void {
    this.secrets.set(channelId, secretKey);
  }
  cursor(channelId: string): number {
    return this.cursors.get(channelId) ?? 0;
  }
  setCursor(channelId: string, seq: number): void {
    this.cursors.set(channelId, Math.max(this.cursor(channelId), seq));
  }
  forget(channelId: string): void {
    this.pins.delete(channelId);
    this.secrets.delete(channelId);
    this.cursors.delete(channelId);
  }
  heldHandovers(): HeldChannelKeyHandover[] {
    return [...this.handovers.values()];
  }
  holdHandover(handover: HeldChannelKeyHandover): void {
    this.handovers.set(handoverKey(handover), handover);
  }
  dropHandover(groupId: string, seq: number): void {
    this.handovers.delete(handoverKey({ groupId, seq }));
  }
}
