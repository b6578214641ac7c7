import { decodeBase64, encodeBase64 } from '@courier/protocol';
import { type ChannelKeyring, type HeldChannelKeyHandover, handoverKey } from '@courier/sdk';
import { readJson, writeFileAtomic } from './atomic-file.ts';

interface KeyringFile {
  pins: Record<string, string>;
  /** Secret channel keys of channels this device posts in, base64. */
  secrets: Record<string, string>;
  cursors: Record<string, number>;
  /** Handed-over channel keys not checked with the server yet, by `<groupId>#<seq>`. */
  handovers: Record<string, HeldChannelKeyHandover>;
}

/**
 * The profile's channel keyring in one file (0600): pinned channel keys, the secret keys of the
 * channels this device posts in, how far it has read each channel, and handed-over keys that could not
 * be checked with the server yet (checked again by the next command that receives). Every change re-reads the
 * file first, so a `listen` and a `channel post` of one profile do not undo each other's changes.
 */
export class ChannelKeyringFile implements ChannelKeyring {
  constructor(private readonly path: string) {}

  private read(): KeyringFile {
    const file = readJson<Partial<KeyringFile>>(this.path);
    return {
      pins: file?.pins ?? {},
      secrets: file?.secrets ?? {},
      cursors: file?.cursors ?? {},
      handovers: file?.handovers ?? {},
    };
  }

  private change(edit: (file: KeyringFile) => void): void {
    const file = this.read();
    edit(file);
    writeFileAtomic(this.path, JSON.stringify(file, null, 2));
  }

  pinned(channelId: string): string | undefined {
    return this.read().pins[channelId];
  }
  pin(channelId: string, publicKey: string): void {
    this.change((f) => {
      f.pins[channelId] = publicKey;
    });
  }
  secretKey(channelId: string): Uint8Array | undefined {
    const text = this.read().secrets[channelId];
    return text === undefined ? undefined : decodeBase64(text);
  }
  setSecretKey(channelId: string, secretKey: Uint8Array): void {
    this.change((f) => {
      f.secrets[channelId] = encodeBase64(secretKey);
    });
  }
  cursor(channelId: string): number {
    return this.read().cursors[channelId] ?? 0;
  }
  setCursor(channelId: string, seq: number): void {
    if (seq <= this.cursor(channelId)) return;
    this.change((f) => {
      f.cursors[channelId] = Math.max(f.cursors[channelId] ?? 0, seq);
    });
  }
  forget(channelId: string): void {
    this.change((f) => {
      delete f.pins[channelId];
      delete f.secrets[channelId];
      delete f.cursors[channelId];
    });
  }
  heldHandovers(): HeldChannelKeyHandover[] {
    return Object.values(this.read().handovers);
  }
  holdHandover(handover: HeldChannelKeyHandover): void {
    this.change((f) => {
      f.handovers[handoverKey(handover)] = handover;
    });
  }
  dropHandover(groupId: string, seq: number): void {
    const key = handoverKey({ groupId, seq });
    if (!(key in this.read().handovers)) return;
    this.change((f) => {
      delete f.handovers[key];
    });
  }
}
