/**
 * One broadcast channel (issue 16): its posts in order (the newest first shown, older ones loaded as
 * the person scrolls up), live as they arrive, each with its view count and an "edited" mark; a post
 * whose signature does not verify against the pinned key is shown as rejected, never as the
 * channel's; a change of the channel's key is said plainly. Admins on a device holding the channel
 * key get a composer (text, stickers, photos, videos and files, with progress), and edit and delete
 * their posts; an admin whose device holds no key is told to ask the owner to send it again. A file
 * post shows its preview (carried in the post) at once; photos open in the viewer, videos play while
 * they download, files download (ui/media-message.tsx, the chats' pieces). The view and the composer
 * both say that posts, and files attached to them, are public, not end-to-end encrypted.
 */
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { device } from '../rpc.ts';
import { channelMediaGroup } from '../ui/channel-link.ts';
import { timeOfDay, withDaySeparators } from '../ui/day-groups.ts';
import { Alert, messageOf, useAction } from '../ui/errors.tsx';
import { MediaComposer } from '../ui/media-composer.tsx';
import { MediaMessage } from '../ui/media-message.tsx';
import { MessageText } from '../ui/message-text.tsx';
import { StickerImage } from '../ui/sticker-image.tsx';
import type { ChannelPostRow, ChannelSummary } from '../worker/types.ts';
import { ChannelManage } from './channel-manage.tsx';
import { StickerPicker } from './sticker-picker.tsx';

const PAGE = 50;

export function ChannelView(props: {
  channelId: string;
  /** Bumped whenever the worker says this channel's posts changed. */
  version: number;
  /** Bumped whenever the channel list changed (roles, key, subscribers). */
  listVersion: number;
  onBack: () => void;
  onGone: (what: string) => void;
  onStickerPacks: () => void;
}) {
  const { channelId } = props;
  const [channel, setChannel] = useState<ChannelSummary | undefined>();
  const [rows, setRows] = useState<ChannelPostRow[]>([]);
  const [more, setMore] = useState(false);
  const [limit, setLimit] = useState(PAGE);
  const [text, setText] = useState('');
  const [stickers, setStickers] = useState(false);
  const [managing, setManaging] = useState(false);
  const [editing, setEditing] = useState<{ postId: string; text: string } | undefined>();
  /** A question waiting for a yes (delete a post, unsubscribe). */
  const [confirming, setConfirming] = useState<string | undefined>();
  const { error, busy, run, setError } = useAction();
  const log = useRef<HTMLDivElement>(null);
  const anchor = useRef<{ height: number; top: number } | undefined>(undefined);
  const stickToBottom = useRef(true);
  const loadingOlder = useRef(false);

  // The channel on screen is read now and as posts arrive; leaving it stops that.
  useEffect(() => {
    setLimit(PAGE);
    setRows([]);
    setManaging(false);
    setEditing(undefined);
    stickToBottom.current = true;
    // Read only while the person can see it: the subscription cursor (unread counts, view counts)
    // then says what they saw. A tab in the background reads again when it comes back.
    const follow = () => {
      if (document.visibilityState === 'visible') void run(() => device.openChannel(channelId));
      else void device.openChannel(undefined).catch(() => {});
    };
    follow();
    document.addEventListener('visibilitychange', follow);
    return () => {
      document.removeEventListener('visibilitychange', follow);
      void device.openChannel(undefined).catch(() => {});
    };
  }, [channelId, run]);

  // Asked again whenever the list changed; that does not clear what the person's last action said
  // (a post refused because the role was taken back also shows the channel again, without a composer).
  useEffect(() => {
    let cancelled = false;
    device.channel(channelId).then(
      (shown) => {
        if (!cancelled) setChannel(shown);
      },
      (caught: unknown) => {
        if (!cancelled) setError(messageOf(caught));
      },
    );
    return () => {
      cancelled = true;
    };
  }, [channelId, props.listVersion, setError]);

  useEffect(() => {
    let cancelled = false;
    void run(async () => {
      const page = await device.channelPage(channelId, limit);
      if (cancelled) return;
      setRows(page.rows);
      setMore(page.more);
      loadingOlder.current = false;
    });
    return () => {
      cancelled = true;
    };
  }, [channelId, props.version, limit, run]);

  useLayoutEffect(() => {
    const element = log.current;
    if (!element) return;
    if (anchor.current) {
      // Older posts went in above: keep what the person was looking at in place.
      element.scrollTop = element.scrollHeight - anchor.current.height + anchor.current.top;
      anchor.current = undefined;
    } else if (stickToBottom.current) element.scrollTop = element.scrollHeight;
  }, [rows]);

  const loadOlder = () => {
    const element = log.current;
    if (!element || !more || loadingOlder.current) return;
    loadingOlder.current = true;
    anchor.current = { height: element.scrollHeight, top: element.scrollTop };
    setLimit((n) => n + PAGE);
  };

  const post = () => {
    const body = text.trim();
    if (body === '') return;
    stickToBottom.current = true;
    void run(async () => {
      await device.postToChannel(channelId, { text: body });
      setText('');
    });
  };

  if (!channel)
    return (
      <section class="pane-body" aria-label="Channel">
        <button type="button" class="secondary" onClick={props.onBack}>
          Back to channels
        </button>
        <p>{error === '' ? 'Opening the channel…' : ''}</p>
        <Alert text={error} />
      </section>
    );

  const admin = channel.myRole === 'owner' || channel.myRole === 'admin';
  const mayPost = admin && channel.canPost;
  const entries = withDaySeparators(rows, (r) => r.createdAtMs, Date.now());
  return (
    <section class="chat-view channel-view" aria-labelledby="channel-title">
      <header class="chat-head channel-head">
        <button type="button" class="back secondary" onClick={props.onBack}>
          Channels
        </button>
        <h2 id="channel-title">{channel.title}</h2>
        <span class="channel-meta">
          @{channel.name} · {channel.visibility === 'private' ? 'private' : 'public'} ·{' '}
          {channel.subscriberCount} subscriber{channel.subscriberCount === 1 ? '' : 's'}
        </span>
        {channel.description && <p class="channel-description">{channel.description}</p>}
        {admin && (
          <button
            type="button"
            class="secondary"
            aria-expanded={managing}
            onClick={() => setManaging(!managing)}
          >
            Manage
          </button>
        )}
        {channel.myRole === 'subscriber' && (
          <button type="button" class="secondary" onClick={() => setConfirming('unsubscribe')}>
            Unsubscribe
          </button>
        )}
      </header>
      <p class="public-note channel-notice" id="channel-notice">
        Public broadcast, not end-to-end encrypted: the server and every subscriber can read these posts. Each
        is signed by the channel’s key <span class="fingerprint">{channel.key}</span>, and this app checks it.
      </p>
      {channel.keyChange && (
        <div class="warning key-change" role="alert">
          <p>
            <strong>The key of this channel changed.</strong> You subscribed under{' '}
            <span class="fingerprint">{channel.keyChange.pinned}</span>; the server now shows{' '}
            <span class="fingerprint">{channel.keyChange.served}</span>. The channel made a new key, or
            someone is passing posts off as the channel’s: posts signed only by the new key show as rejected
            until you check it with the channel’s owner and accept it.
          </p>
          <button
            type="button"
            class="secondary"
            onClick={() => void run(() => device.acceptChannelKey(channelId))}
          >
            I checked it: accept the new key
          </button>
        </div>
      )}
      {confirming === 'unsubscribe' && (
        <section class="confirm" aria-label="Unsubscribe">
          <p>
            Unsubscribe from {channel.title}?
            {channel.visibility === 'private'
              ? ' It is private: you need a new invite link to come back.'
              : ''}
          </p>
          <button
            type="button"
            class="danger"
            onClick={() =>
              void run(async () => {
                await device.unsubscribeChannel(channelId);
                props.onGone(`You unsubscribed from ${channel.title}.`);
              })
            }
          >
            Unsubscribe
          </button>
          <button type="button" class="secondary" onClick={() => setConfirming(undefined)}>
            Stay subscribed
          </button>
        </section>
      )}
      {managing && admin && <ChannelManage channel={channel} />}
      <div
        class="messages channel-posts"
        ref={log}
        role="log"
        aria-label={`Posts of ${channel.title}`}
        // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must be focusable (WCAG 2.1.1)
        tabIndex={0}
        onScroll={(event) => {
          const element = event.currentTarget as HTMLDivElement;
          stickToBottom.current = element.scrollHeight - element.scrollTop - element.clientHeight < 40;
          if (element.scrollTop < 120) loadOlder();
        }}
      >
        {more && (
          <button type="button" class="secondary older" onClick={loadOlder}>
            Load older posts
          </button>
        )}
        {rows.length === 0 && !more && <p class="notice">No posts yet.</p>}
        <ol class="message-list">
          {entries.map((entry) => {
            if (entry.kind === 'day')
              return (
                <li key={entry.key} class="day">
                  <span>{entry.label}</span>
                </li>
              );
            const row = entry.item;
            if (row.kind === 'rejected')
              return (
                <li key={row.postId} class="message in channel-post rejected" data-seq={row.seq}>
                  <strong>Rejected post.</strong> It is not signed by this channel’s key, so it is not from
                  the channel (it was changed or made up on the way). Its content is not shown.
                </li>
              );
            const editingThis = editing?.postId === row.postId;
            return (
              <li
                key={row.postId}
                class="message in channel-post"
                data-post-id={row.postId}
                data-seq={row.seq}
              >
                {editingThis ? (
                  <form
                    class="edit-post"
                    onSubmit={(event) => {
                      event.preventDefault();
                      const body = editing.text.trim();
                      if (body === '') return;
                      void run(async () => {
                        await device.editChannelPost(channelId, row.postId, body);
                        setEditing(undefined);
                      });
                    }}
                  >
                    <label for={`edit-${row.postId}`} class="visually-hidden">
                      Edit the post
                    </label>
                    <textarea
                      id={`edit-${row.postId}`}
                      value={editing.text}
                      onInput={(e) => setEditing({ postId: row.postId, text: e.currentTarget.value })}
                    />
                    <button type="submit" disabled={busy}>
                      Save
                    </button>
                    <button type="button" class="secondary" onClick={() => setEditing(undefined)}>
                      Cancel
                    </button>
                  </form>
                ) : row.file ? (
                  <span class="text">
                    <MediaMessage
                      groupId={channelMediaGroup(channelId)}
                      messageKey={row.postId}
                      file={row.file}
                    />
                  </span>
                ) : row.sticker ? (
                  <span class="text">
                    <StickerImage sticker={row.sticker} />
                  </span>
                ) : row.unsupported ? (
                  <span class="text unsupported">
                    {row.unsupported === 'malformed'
                      ? 'A damaged post this app cannot read.'
                      : `A ${row.unsupported} post this version of the app cannot show.`}
                  </span>
                ) : (
                  <span class="text post-text">
                    <MessageText text={row.text} />
                  </span>
                )}
                <span class="meta">
                  <time dateTime={new Date(row.createdAtMs).toISOString()}>{timeOfDay(row.createdAtMs)}</time>
                  {row.edited && <span class="edited"> · edited</span>}
                  <span class="views">
                    {' · '}
                    {row.views} view{row.views === 1 ? '' : 's'}
                  </span>
                </span>
                {mayPost && !editingThis && (
                  <span class="post-actions">
                    {!row.sticker && !row.unsupported && !row.file && (
                      <button
                        type="button"
                        class="secondary"
                        aria-label={`Edit post: ${row.text.slice(0, 40)}`}
                        onClick={() => setEditing({ postId: row.postId, text: row.text })}
                      >
                        Edit
                      </button>
                    )}
                    {confirming === row.postId ? (
                      <>
                        <button
                          type="button"
                          class="danger"
                          onClick={() =>
                            void run(async () => {
                              setConfirming(undefined);
                              await device.deleteChannelPost(channelId, row.postId);
                            })
                          }
                        >
                          Delete for everyone
                        </button>
                        <button type="button" class="secondary" onClick={() => setConfirming(undefined)}>
                          Keep
                        </button>
                      </>
                    ) : (
                      <button
                        type="button"
                        class="secondary"
                        aria-label={`Delete post: ${row.sticker ? `sticker ${row.sticker.emoji}` : row.file ? `file ${row.file.name}` : row.text.slice(0, 40)}`}
                        onClick={() => setConfirming(row.postId)}
                      >
                        Delete
                      </button>
                    )}
                  </span>
                )}
              </li>
            );
          })}
        </ol>
      </div>
      {admin && !channel.canPost && (
        <p class="notice no-key">
          You are {channel.myRole === 'owner' ? 'the owner' : 'an admin'} of this channel, but this device
          does not hold the channel’s key, so it cannot sign posts.{' '}
          {channel.myRole === 'owner'
            ? 'On a device that holds it, use “Send the key to my other devices” under Manage.'
            : 'Ask the owner to send the key again (it comes end to end, in your chat with them).'}
        </p>
      )}
      {mayPost && <MediaComposer channelId={channelId} ready={true} />}
      {mayPost && stickers && (
        <StickerPicker
          onPick={async (sticker) => {
            stickToBottom.current = true;
            await device.postToChannel(channelId, { sticker });
            setStickers(false);
          }}
          onClose={() => setStickers(false)}
          onManage={props.onStickerPacks}
        />
      )}
      {mayPost && (
        <form
          class="composer channel-composer"
          aria-describedby="composer-public-note"
          onSubmit={(event) => {
            event.preventDefault();
            post();
          }}
        >
          <p class="composer-note" id="composer-public-note">
            Posting publicly to @{channel.name}: not end-to-end encrypted; every subscriber and the server can
            read it. Attached files are readable by anyone who can read the channel. Signed with the channel’s
            key.
          </p>
          <label for="channel-composer" class="visually-hidden">
            Post to the channel
          </label>
          <textarea
            id="channel-composer"
            rows={1}
            placeholder="Write a public post"
            value={text}
            onInput={(e) => setText(e.currentTarget.value)}
            onKeyDown={(e) => {
              if (e.key === 'Enter' && !e.shiftKey) {
                e.preventDefault();
                post();
              }
            }}
          />
          <button
            type="button"
            class="secondary"
            aria-expanded={stickers}
            onClick={() => setStickers(!stickers)}
          >
            Stickers
          </button>
          <button type="submit" disabled={busy}>
            Post
          </button>
        </form>
      )}
      <Alert text={error} />
    </section>
  );
}
