/**
 * What kind of file some bytes are, by their first bytes (never by a name), and whether a PNG is
 * animated (APNG). Only PNG and WebP ever reach the image library: everything else is classified
 * here and refused, so no other decoder (SVG, TIFF, HEIF…) runs on what a stranger uploaded.
 */
export type SniffedKind =
  | 'png'
  | 'webp'
  /** An image of a kind stickers do not take (JPEG, GIF, BMP, TIFF, SVG, ICO, AVIF/HEIF, JPEG XL). */
  | 'other-image'
  | 'unknown';

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

const startsWith = (bytes: Uint8Array, prefix: readonly number[], at = 0) =>
  bytes.length >= at + prefix.length && prefix.every((b, i) => bytes[at + i] === b);
const ascii = (text: string) => [...text].map((c) => c.charCodeAt(0));

export function sniffImage(bytes: Uint8Array): SniffedKind {
  if (startsWith(bytes, PNG_SIGNATURE)) return 'png';
  if (startsWith(bytes, ascii('RIFF')) && startsWith(bytes, ascii('WEBP'), 8)) return 'webp';
  if (
    startsWith(bytes, [0xff, 0xd8, 0xff]) ||
    startsWith(bytes, ascii('GIF87a')) ||
    startsWith(bytes, ascii('GIF89a')) ||
    startsWith(bytes, ascii('BM')) ||
    startsWith(bytes, [0x49, 0x49, 0x2a, 0x00]) ||
    startsWith(bytes, [0x4d, 0x4d, 0x00, 0x2a]) ||
    startsWith(bytes, [0x00, 0x00, 0x01, 0x00]) ||
    startsWith(bytes, [0xff, 0x0a]) ||
    startsWith(bytes, [0x00, 0x00, 0x00, 0x0c, 0x4a, 0x58, 0x4c, 0x20]) ||
    startsWith(bytes, ascii('ftyp'), 4)
  )
    return 'other-image';
  const head = new TextDecoder('latin1').decode(bytes.subarray(0, 512)).trimStart().toLowerCase();
  if (head.startsWith('<svg') || (head.startsWith('<?xml') && head.includes('<svg'))) return 'other-image';
  return 'unknown';
}

export type PngStructure =
  | { kind: 'png'; animated: boolean }
  /** Not a well-formed chunk sequence (signature, IHDR first, lengths inside the file, IEND). */
  | { kind: 'malformed' };

/**
 * Walks a PNG's chunks (length, type, data, CRC) up to IEND: an `acTL` chunk makes it an APNG.
 * CRCs are left to the decoder; this only needs the chunk boundaries.
 */
export function pngStructure(bytes: Uint8Array): PngStructure {
  if (!startsWith(bytes, PNG_SIGNATURE)) return { kind: 'malformed' };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = PNG_SIGNATURE.length;
  let animated = false;
  let first = true;
  while (at + 12 <= bytes.length) {
    const length = view.getUint32(at);
    const type = String.fromCharCode(...bytes.subarray(at + 4, at + 8));
    const end = at + 12 + length;
    if (length > 0x7fffffff || end > bytes.length) return { kind: 'malformed' };
    if (first && type !== 'IHDR') return { kind: 'malformed' };
    first = false;
    if (type === 'acTL') animated = true;
    if (type === 'IEND') return { kind: 'png', animated };
    at = end;
  }
  return { kind: 'malformed' };
}
