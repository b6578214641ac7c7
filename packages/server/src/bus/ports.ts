/**
 * The bus between server nodes carries signals ("something is available"), never data: the data
 * is stored first, then signalled. Every node receives every signal, its own included.
 */
export type BusSignal =
  /** Groups whose logs grew, with the highest committed sequence number of each. */
  | { type: 'groups_appended'; groups: [groupId: string, seq: number][] }
  /** Devices whose mailboxes grew, with the highest committed mailbox sequence number. */
  | { type: 'mailboxes_appended'; devices: [deviceId: string, seq: number][] }
  /** Accounts that joined or left a group: their connections reload that membership. */
  | { type: 'membership_changed'; groupId: string; accountIds: string[] }
  /** Devices signed out: their connections are closed. */
  | { type: 'devices_revoked'; deviceIds: string[] }
  /** Channels with new (or revised) posts, with the highest committed sequence number of each. */
  | { type: 'channels_appended'; channels: [channelId: string, seq: number][] }
  /** Accounts that subscribed to or left a channel: their connections reload that subscription. */
  | { type: 'channel_subscriptions_changed'; channelId: string; accountIds: string[] };

export interface Bus {
  publish(signal: BusSignal): Promise<void>;
  subscribe(handler: (signal: BusSignal) => void): void;
  /**
   * Called after the bus was interrupted and is back: signals may have been missed meanwhile,
   * so the node re-reads what it serves from storage.
   */
  onResume(handler: () => void): void;
  close(): Promise<void>;
}
