/**
 * What a browser page needs of the SDK beside the client, which runs in a worker: the sticker shelf
 * and link parsing, sticker file types, the media preview limit. Light on purpose: importing the
 * package's main entry would bring the client, MLS and their crypto into the page's first load.
 */
export { MAX_PREVIEW_BYTES } from './media/file-descriptor.ts';
export { stickerMimeOfName } from './stickers/sticker-api.ts';
export { packOfLink, StickerShelf } from './stickers/sticker-shelf.ts';
