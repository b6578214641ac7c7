import { UNSAFE_TEXT_PATTERN } from '@courier/protocol';

const UNSAFE = new RegExp(UNSAFE_TEXT_PATTERN.source, 'gu');
/** The unsafe characters JSON.stringify leaves raw (it escapes C0 in strings; its own newlines stay). */
const LEFT_RAW_BY_JSON = /[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/gu;

/** How an unsafe character is shown: a control picture for C0 and DEL, its code point otherwise. */
function visible(char: string): string {
  const code = char.codePointAt(0)!;
  if (code <= 0x1f) return String.fromCodePoint(0x2400 + code); // ␀ … ␟ (␛ for ESC, ␊ for a newline)
  if (code === 0x7f) return '\u2421'; // ␡
  return `<U+${code.toString(16).toUpperCase().padStart(4, '0')}>`;
}

/**
 * Other people's text (messages, display names, group titles) as it may be written to a terminal:
 * every character a terminal would act on instead of showing (escape sequences that recolour or
 * clear the screen, a newline or carriage return that would start a forged line, C1 controls,
 * bidirectional overrides that reorder the line) is replaced by a visible stand-in. Everything else,
 * any script and emoji included, is left as it is.
 */
export function printable(text: string): string {
  return text.replace(UNSAFE, visible);
}

/**
 * JSON for a terminal or a pipe: JSON.stringify already escapes C0 controls; this also escapes DEL,
 * C1 controls, the line separators and the bidi controls, which it leaves raw. Still valid JSON that
 * parses to the same value.
 */
export function safeJson(value: unknown, indent?: number): string {
  return JSON.stringify(value, null, indent).replace(
    LEFT_RAW_BY_JSON,
    (char) => `\\u${char.codePointAt(0)!.toString(16).padStart(4, '0')}`,
  );
}
