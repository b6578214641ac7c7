/**
 * The ONLY place where message text exists as plaintext bytes on the wire: until end-to-end
 * encryption (MLS) lands, the CLI sends UTF-8. The E2E issue replaces these two functions with
 * MLS encryption and decryption, and this file goes away.
 */
export function encodeText(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

export function decodeText(payload: Uint8Array): string {
  return new TextDecoder('utf-8', { fatal: false }).decode(payload);
}
