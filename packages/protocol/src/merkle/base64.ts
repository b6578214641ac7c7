/**
 * Standard base64 (RFC 4648 §4) with padding, as signed notes and checkpoints use it. Decoding is
 * canonical: exactly one text decodes to a given byte string, so a signed value cannot be
 * re-encoded into a second accepted form.
 */

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const SHAPE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export function encodeBase64(bytes: Uint8Array): string {
  let text = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const [a, b, c] = [bytes[i]!, bytes[i + 1], bytes[i + 2]];
    const triple = (a << 16) | ((b ?? 0) << 8) | (c ?? 0);
    text += ALPHABET[triple >> 18]! + ALPHABET[(triple >> 12) & 63]!;
    text += b === undefined ? '=' : ALPHABET[(triple >> 6) & 63]!;
    text += c === undefined ? '=' : ALPHABET[triple & 63]!;
  }
  return text;
}

/** The bytes of a canonical base64 text, or undefined for anything else. */
export function decodeBase64(text: string): Uint8Array | undefined {
  if (typeof text !== 'string' || !SHAPE.test(text)) return undefined;
  const bytes = Uint8Array.from(atob(text), (char) => char.charCodeAt(0));
  // Unused low bits of the last character must be zero.
  return encodeBase64(bytes) === text ? bytes : undefined;
}
