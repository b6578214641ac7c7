/**
 * A channel post in its three forms on the web device: as the SDK judged it (ChannelPost), as the
 * worker keeps it (HeldChannelPost, channel-store.ts) and as the channel view shows it (ChannelPostRow).
 */
import type { ChannelPost, FileDescriptor } from '@courier/sdk';
import type { HeldChannelPost } from './channel-store.ts';
import { mediaInfo } from './device-media.ts';
import type { ChannelPostRow } from './types.ts';

/** A post as the SDK judged it, in the form this device keeps. */
export function held(post: ChannelPost): HeldChannelPost {
  if (post.kind === 'rejected') {
    const now = Date.now();
    return {
      channelId: post.channelId,
      postId: `rejected:${post.seq}`,
      seq: post.seq,
      order: now,
      revision: 0,
      deleted: false,
      rejected: post.reason,
      createdAtMs: now,
      editedAtMs: null,
      views: 0,
    };
  }
  return {
    channelId: post.channelId,
    postId: post.postId,
    seq: post.seq,
    order: post.createdAtMs,
    revision: post.revision,
    deleted: post.deleted,
    ...(post.content ? { content: post.content } : {}),
    createdAtMs: post.createdAtMs,
    editedAtMs: post.editedAtMs,
    views: post.views,
  };
}

export function rowOf(post: HeldChannelPost): ChannelPostRow {
  const base = {
    postId: post.postId,
    seq: post.seq,
    createdAtMs: post.createdAtMs,
    edited: post.revision > 0,
    views: post.views,
  };
  if (post.rejected) return { ...base, kind: 'rejected', text: '', edited: false };
  const content = post.content;
  if (content?.kind === 'known') {
    const c = content.content;
    if (c.type === 'text') return { ...base, kind: 'post', text: c.text };
    if (c.type === 'sticker') return { ...base, kind: 'post', text: '', sticker: c.sticker };
    if (c.type === 'file') return { ...base, kind: 'post', text: '', file: mediaInfo(c.file) };
    return { ...base, kind: 'post', text: '', unsupported: c.type };
  }
  return {
    ...base,
    kind: 'post',
    text: '',
    unsupported: content?.kind === 'unsupported' ? content.type : 'malformed',
  };
}

/** The file a kept post carries (its key and digest came inside the signed post), if any. */
export function fileOfHeld(post: HeldChannelPost | undefined): FileDescriptor | undefined {
  if (!post || post.deleted || post.rejected || post.content?.kind !== 'known') return undefined;
  const content = post.content.content;
  return content.type === 'file' ? content.file : undefined;
}
