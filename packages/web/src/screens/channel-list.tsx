/**
 * The Channels pane (issue 16): the broadcast channels I follow or run, each with its unread count
 * (posts after my subscription's cursor), a field to find one by @name or open an invite link, and
 * the way to make one. Channel posts are public broadcasts, not end-to-end encrypted: said here too.
 */
import { useState } from 'preact/hooks';
import { type ChannelTarget, parseChannelTarget } from '../ui/channel-link.ts';
import { Alert } from '../ui/errors.tsx';
import { VirtualList } from '../ui/virtual-list.tsx';
import type { ChannelSummary } from '../worker/types.ts';

export const PUBLIC_NOTICE =
  'Channel posts are public broadcasts: they are not end-to-end encrypted, and the server and every subscriber can read them.';

export function unreadText(channel: ChannelSummary): string {
  return `${channel.unread}${channel.unreadMore ? '+' : ''}`;
}

export function ChannelList(props: {
  channels: ChannelSummary[] | undefined;
  onOpen: (channelId: string) => void;
  onFind: (target: ChannelTarget) => void;
  onNew: () => void;
}) {
  const [query, setQuery] = useState('');
  const [error, setError] = useState('');
  const find = () => {
    const target = parseChannelTarget(query);
    if (!target) {
      setError(
        'Type a channel’s @name (5 to 32 of a–z, 0–9 and _) or paste an invite link (…/#channel-invite=…).',
      );
      return;
    }
    setError('');
    props.onFind(target);
  };
  const { channels } = props;
  return (
    <section class="pane-body channels" aria-labelledby="channels-title">
      <h2 id="channels-title">Channels</h2>
      <p class="public-note">
        {PUBLIC_NOTICE} Each post is signed by its channel’s key, and this app checks it.
      </p>
      <form
        class="row channel-find"
        onSubmit={(event) => {
          event.preventDefault();
          find();
        }}
      >
        <label for="channel-find">Find a channel by @name, or open an invite link</label>
        <input
          id="channel-find"
          type="search"
          autocomplete="off"
          placeholder="@name or https://…/#channel-invite=…"
          value={query}
          onInput={(e) => setQuery(e.currentTarget.value)}
        />
        <button type="submit">Find</button>
        <button type="button" class="secondary" onClick={props.onNew}>
          New channel
        </button>
      </form>
      <Alert text={error} />
      <h3>Your channels</h3>
      {channels === undefined ? (
        <p class="empty">Loading…</p>
      ) : channels.length === 0 ? (
        <p class="empty">No channels yet. Find one by its @name, open an invite link, or make your own.</p>
      ) : (
        <VirtualList
          items={channels}
          rowHeight={64}
          label="Your channels"
          fitUpTo="60vh"
          className="channel-rows"
          keyOf={(c) => c.channelId}
          render={(channel) => (
            <button
              type="button"
              class="chat-item channel-item"
              onClick={() => props.onOpen(channel.channelId)}
            >
              <span class="chat-title">
                {channel.title}
                <span class="tag">
                  {' '}
                  · @{channel.name}
                  {channel.myRole === 'owner' ? ' · yours' : channel.myRole === 'admin' ? ' · admin' : ''}
                </span>
              </span>
              <span class="chat-last">
                {channel.keyChange
                  ? 'Its key changed: check before trusting new posts'
                  : `${channel.visibility === 'private' ? 'Private' : 'Public'} · ${channel.subscriberCount} subscriber${channel.subscriberCount === 1 ? '' : 's'}`}
              </span>
              {channel.unread > 0 && (
                <span class="badge">
                  {unreadText(channel)}
                  <span class="visually-hidden"> unread</span>
                </span>
              )}
            </button>
          )}
        />
      )}
    </section>
  );
}
