import { CourierError } from '@courier/protocol';
import { type ChannelKeyContent, channelKeyContent } from './channel-key-content.ts';
import type { ContentType, DecodedContent } from './content-type.ts';
import { type DeleteContent, deleteContent } from './delete-content.ts';
import { type EditContent, editContent } from './edit-content.ts';
import { type FileContent, fileContent } from './file-content.ts';
import { type ForwardContent, forwardContent } from './forward-content.ts';
import { type ReactionContent, reactionContent } from './reaction-content.ts';
import { type ReceiptContent, receiptContent } from './receipt-content.ts';
import { type ReplyContent, replyContent } from './reply-content.ts';
import { type StickerContent, stickerContent } from './sticker-content.ts';
import { type TextContent, textContent } from './text-content.ts';

/** Every content this client can read and send. A new type adds its file here and its type below. */
export type AnyContent =
  | TextContent
  | FileContent
  | ReceiptContent
  | ReplyContent
  | ForwardContent
  | EditContent
  | DeleteContent
  | ReactionContent
  | StickerContent
  | ChannelKeyContent;

/** The message actions: control content that changes a message already in the chat. */
export type ActionContent = EditContent | DeleteContent | ReactionContent;

const TYPES: readonly ContentType<AnyContent>[] = [
  textContent as ContentType<AnyContent>,
  fileContent as ContentType<AnyContent>,
  receiptContent as ContentType<AnyContent>,
  replyContent as ContentType<AnyContent>,
  forwardContent as ContentType<AnyContent>,
  editContent as ContentType<AnyContent>,
  deleteContent as ContentType<AnyContent>,
  reactionContent as ContentType<AnyContent>,
  stickerContent as ContentType<AnyContent>,
  channelKeyContent as ContentType<AnyContent>,
];

const registry = new Map<string, ContentType<AnyContent>>(TYPES.map((t) => [t.type, t]));

/** An unknown type's name is kept (to say what it was), shortened: it comes from another client. */
const MAX_TYPE_NAME = 64;

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** The content types this client knows, by name. */
export function knownContentTypes(): string[] {
  return [...registry.keys()];
}

/** Encodes content of a known type, after the type's own checks (CourierError REQ_INVALID). */
export function writeContent(content: AnyContent): Uint8Array {
  const type = registry.get(content.type);
  if (!type) throw new CourierError('REQ_INVALID', { message: `Unknown content type ${content.type}.` });
  type.check?.(content);
  // What another client would call malformed is never sent.
  const reason = type.parse(JSON.parse(JSON.stringify(content)) as Record<string, unknown>);
  if (typeof reason === 'string') throw new CourierError('REQ_INVALID', { message: reason });
  return encoder.encode(JSON.stringify(content));
}

/**
 * Reads the bytes of an application message. Never throws: a type (or version) this client does not
 * know is `unsupported`, anything that is not a content object is `malformed`.
 */
export function readContent(bytes: Uint8Array): DecodedContent<AnyContent> {
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(bytes));
  } catch {
    return { kind: 'malformed', reason: 'The message content is not UTF-8 JSON.' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return { kind: 'malformed', reason: 'The message content is not an object.' };
  const object = value as Record<string, unknown>;
  const { type: name, v } = object;
  if (typeof name !== 'string' || name.length === 0)
    return { kind: 'malformed', reason: 'The message content names no type.' };
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1)
    return { kind: 'malformed', reason: 'The message content has no version.' };
  const type = registry.get(name);
  if (!type || v !== 1) return { kind: 'unsupported', type: name.slice(0, MAX_TYPE_NAME), v };
  const parsed = type.parse(object);
  if (typeof parsed === 'string') return { kind: 'malformed', reason: parsed };
  return { kind: 'known', content: parsed, shown: type.shown };
}
