import { readFileSync } from 'node:fs';

/** The column classes of docs/data-inventory.md. */
export const INVENTORY_CLASSES = new Set([
  'personal',
  'disclosable',
  'ciphertext',
  'public',
  'operational',
  'forwarded',
]);

/** The inventory page's text. */
export function inventoryText(): string {
  return readFileSync(new URL('../../docs/data-inventory.md', import.meta.url), 'utf8');
}

/** `table.column` → class, from the table in docs/data-inventory.md. */
export function inventory(): Map<string, string> {
  const rows = new Map<string, string>();
  for (const line of inventoryText().split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    if (cells.length < 7 || cells[1] === 'table' || cells[1]!.startsWith('---')) continue;
    rows.set(`${cells[1]}.${cells[2]}`, cells[3]!);
  }
  return rows;
}
