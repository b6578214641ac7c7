/** Sends a text message to a phone number (E.164). Throws when the gateway refuses. */
export interface SmsSender {
  send(to: string, text: string): Promise<void>;
}
