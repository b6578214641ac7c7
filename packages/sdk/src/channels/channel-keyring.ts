/**
 * What a client keeps about channels: the public key pinned for each channel on subscribe, the
 * channel's secret key where this device may post (the owner's and admins' devices), and how far it
 * has read. Memory here; the CLI keeps the same in a file of its profile.
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
}

export class MemoryChannelKeyring implements ChannelKeyring {
  private readonly pins = new Map<string, string>();
  private readonly secrets = new Map<string, Uint8Array>();
  private readonly cursors = new Map<string, number>();

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
}
