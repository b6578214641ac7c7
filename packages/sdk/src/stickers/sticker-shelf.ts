import { CourierError, isStickerShortName } from '@courier/protocol';

/** Where a device keeps the short names of the packs its person added (a file, localStorage…). */
export interface ShelfStorage {
  load(): Promise<string[]> | string[];
  save(shortNames: readonly string[]): Promise<void> | void;
}

/**
 * The packs a person added, on this device only (the server is not told who uses which pack):
 * short names in the order added, newest first, each once.
 */
export class StickerShelf {
  constructor(private readonly storage: ShelfStorage) {}

  async list(): Promise<string[]> {
    const stored = await this.storage.load();
    return Array.isArray(stored) ? stored.filter((n) => isStickerShortName(n)) : [];
  }

  /** Adds a pack (or moves it to the front); returns the list. */
  async add(shortName: string): Promise<string[]> {
    if (!isStickerShortName(shortName)) throw new CourierError('STICKER_PACK_NAME_INVALID');
    const next = [shortName, ...(await this.list()).filter((n) => n !== shortName)];
    await this.storage.save(next);
    return next;
  }

  async remove(shortName: string): Promise<string[]> {
    const next = (await this.list()).filter((n) => n !== shortName);
    await this.storage.save(next);
    return next;
  }
}

/** The pack a link names: `https://host/addstickers/<short>`, `/addstickers/<short>` or just the short name. */
export function packOfLink(link: string): string | undefined {
  const trimmed = link.trim();
  const match = /(?:^|\/)addstickers\/([^/?#]+)\/?(?:[?#].*)?$/.exec(trimmed);
  let name = trimmed;
  try {
    if (match) name = decodeURIComponent(match[1] ?? '');
  } catch {
    return undefined;
  }
  return isStickerShortName(name) ? name : undefined;
}
