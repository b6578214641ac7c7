/**
 * A QR code as one SVG path (dark modules as 1×1 squares), from the `qrcode` package's matrix: drawn
 * by Preact as an element, never parsed from markup.
 */
import { create } from 'qrcode';

export function qrPath(text: string): { size: number; d: string } {
  const { modules } = create(text, { errorCorrectionLevel: 'M' });
  const parts: string[] = [];
  for (let y = 0; y < modules.size; y++) {
    for (let x = 0; x < modules.size; x++) if (modules.get(y, x)) parts.push(`M${x} ${y}h1v1h-1z`);
  }
  return { size: modules.size, d: parts.join('') };
}
