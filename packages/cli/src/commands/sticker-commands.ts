import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CourierError, STICKER_LINK_PREFIX, type StickerPackView, type StickerView } from '@courier/protocol';
import { packOfLink, pickSticker, StickerApi, StickerShelf, stickerMimeOfName } from '@courier/sdk';
import { readJson, writeFileAtomic } from '../atomic-file.ts';
import type { CommandContext } from '../context.ts';
import { humanBytes } from '../progress-bar.ts';
import { resolveChat } from '../resolve.ts';
import { withSecureClient } from '../secure-session.ts';
import { printable } from '../terminal-text.ts';

/** How long `sticker send` waits for this device to be in a chat's encryption group. */
const JOIN_WAIT_MS = 20_000;

const api = (ctx: CommandContext) => new StickerApi(ctx.profile.http());

/** The packs this person added, kept in the profile folder (the server is not told). */
function shelf(ctx: CommandContext): StickerShelf {
  const file = join(ctx.profile.dir, 'sticker-packs.json');
  return new StickerShelf({
    load: () => readJson<string[]>(file) ?? [],
    save: (names) => writeFileAtomic(file, JSON.stringify(names)),
  });
}

const linkOf = (ctx: CommandContext, shortName: string) =>
  new URL(`${STICKER_LINK_PREFIX}${shortName}`, ctx.profile.server()).toString();

const describeSticker = (s: StickerView) =>
  `#${s.index} ${s.emoji}  ${s.width}×${s.height} ${s.mime === 'image/png' ? 'PNG' : 'WebP'}${s.frames > 1 ? `, animated (${s.frames} frames)` : ''}, ${humanBytes(s.bytes)}`;

function printPack(ctx: CommandContext, pack: StickerPackView): void {
  if (ctx.json) {
    ctx.io.out(JSON.stringify({ ...pack, link: linkOf(ctx, pack.shortName) }));
    return;
  }
  ctx.io.out(`${printable(pack.title)} (${pack.shortName}) — ${pack.stickers.length} sticker(s)`);
  ctx.io.out(`Link: ${linkOf(ctx, pack.shortName)}`);
  for (const s of pack.stickers) ctx.io.out(`  ${describeSticker(s)}`);
}

/** `courier sticker pack create <short> <title>`: a new, empty pack this account owns. */
export async function createPack(
  ctx: CommandContext,
  shortName: string,
  titleWords: string[],
): Promise<void> {
  ctx.profile.requireSession();
  const pack = await api(ctx).createPack(shortName, titleWords.join(' '));
  await shelf(ctx).add(pack.shortName);
  if (ctx.json) ctx.io.out(JSON.stringify({ ...pack, link: linkOf(ctx, pack.shortName) }));
  else
    ctx.io.out(
      `Created sticker pack ${pack.shortName} (${printable(pack.title)}). Add stickers with "courier sticker add ${pack.shortName} <file> <emoji>"; share ${linkOf(ctx, pack.shortName)}`,
    );
}

/**
 * `courier sticker add <short> <file> <emoji>`: uploads an image as the pack's next sticker. The
 * file's name says what type it claims to be (.png or .webp); the server checks the content.
 */
export async function addSticker(
  ctx: CommandContext,
  shortName: string,
  path: string,
  emoji: string,
): Promise<void> {
  ctx.profile.requireSession();
  let bytes: Uint8Array;
  try {
    if (!statSync(path).isFile()) throw new Error('not a file');
    bytes = readFileSync(path);
  } catch (cause) {
    throw new CourierError('REQ_INVALID', { message: `Cannot read ${path}.`, cause });
  }
  const mime = stickerMimeOfName(path) ?? 'application/octet-stream';
  const sticker = await api(ctx).upload(shortName, bytes, mime, emoji);
  if (ctx.json) ctx.io.out(JSON.stringify({ pack: shortName, ...sticker }));
  else ctx.io.out(`Added to ${shortName}: ${describeSticker(sticker)}`);
}

/** `courier sticker pack show <short|link>`: a pack's title, link and stickers. */
export async function showPack(ctx: CommandContext, ref: string): Promise<void> {
  printPack(ctx, await api(ctx).pack(shortNameOf(ref)));
}

/** `courier sticker pack add <short|link>`: adds someone's pack to my packs (on this device). */
export async function addPack(ctx: CommandContext, ref: string): Promise<void> {
  const pack = await api(ctx).pack(shortNameOf(ref));
  await shelf(ctx).add(pack.shortName);
  if (ctx.json) ctx.io.out(JSON.stringify({ added: pack.shortName }));
  else ctx.io.out(`Added ${printable(pack.title)} (${pack.shortName}) to your packs.`);
}

/** `courier sticker packs`: the packs added on this device. */
export async function listPacks(ctx: CommandContext): Promise<void> {
  const names = await shelf(ctx).list();
  if (ctx.json) ctx.io.out(JSON.stringify(names));
  else if (names.length === 0) ctx.io.out('No sticker packs yet: "courier sticker pack add <link>".');
  else for (const name of names) ctx.io.out(name);
}

/** `courier sticker pack delete <short>`: deletes a pack this account owns (its images go too). */
export async function deletePack(ctx: CommandContext, shortName: string): Promise<void> {
  ctx.profile.requireSession();
  await api(ctx).deletePack(shortName);
  await shelf(ctx).remove(shortName);
  ctx.io.out(ctx.json ? JSON.stringify({ deleted: shortName }) : `Deleted sticker pack ${shortName}.`);
}

/** `courier sticker remove <short> <index>`: deletes one sticker of a pack this account owns. */
export async function removeSticker(ctx: CommandContext, shortName: string, index: string): Promise<void> {
  ctx.profile.requireSession();
  if (!/^[1-9][0-9]*$/.test(index)) throw new CourierError('STICKER_NOT_FOUND');
  await api(ctx).deleteSticker(shortName, Number(index));
  ctx.io.out(
    ctx.json ? JSON.stringify({ deleted: Number(index) }) : `Deleted sticker #${index} of ${shortName}.`,
  );
}

/**
 * `courier sticker send <chat> <short> <index|emoji>`: sends a sticker of a pack (the first with
 * that emoji, or that index) as a reference inside an end-to-end-encrypted message.
 */
export async function sendSticker(
  ctx: CommandContext,
  chat: string,
  ref: string,
  choice: string,
): Promise<void> {
  ctx.profile.requireSession();
  const pack = await api(ctx).pack(shortNameOf(ref));
  const sticker = pickSticker(pack, choice);
  await withSecureClient(ctx, async ({ client }) => {
    const group = await resolveChat(ctx.profile.http(), chat, (accountId) => client.openDirect(accountId));
    // A chat someone else just started: its Welcome may be on the way (as `send` waits for drafts).
    const deadline = Date.now() + JOIN_WAIT_MS;
    while ((await client.epoch(group.groupId)) === undefined && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 50));
    const accepted = await client.sendSticker(group.groupId, {
      pack: pack.shortName,
      index: sticker.index,
      emoji: sticker.emoji,
    });
    if (ctx.json)
      ctx.io.out(
        JSON.stringify({ groupId: group.groupId, pack: pack.shortName, index: sticker.index, ...accepted }),
      );
    else
      ctx.io.out(
        `Sent sticker ${sticker.emoji} from pack ${pack.shortName} to ${printable(chat)} (#${accepted.seq}).`,
      );
  });
}

function shortNameOf(ref: string): string {
  const name = packOfLink(ref);
  if (!name) throw new CourierError('STICKER_PACK_NAME_INVALID');
  return name;
}
