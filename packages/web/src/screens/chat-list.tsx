/** The chat list: every chat with its last message and unread count, newest activity first, searchable. */
import { useMemo, useState } from 'preact/hooks';
import { VirtualList } from '../ui/virtual-list.tsx';
import type { ChatSummary } from '../worker/types.ts';

export function ChatList(props: {
  chats: ChatSummary[];
  selected: string | undefined;
  onOpen: (groupId: string) => void;
  onNewChat: () => void;
  onNewGroup: () => void;
  /** Message requests and group invitations waiting (listed apart from the chats). */
  requestCount: number;
  requestsOpen: boolean;
  onRequests: () => void;
  /** Broadcast channels: unread posts over all of them (listed in their own pane). */
  channelUnread: number;
  channelsOpen: boolean;
  onChannels: () => void;
}) {
  const [query, setQuery] = useState('');
  const shown = useMemo(() => {
    const q = query.trim().toLowerCase();
    return q === ''
      ? props.chats
      : props.chats.filter((c) => c.title.toLowerCase().includes(q) || c.lastText.toLowerCase().includes(q));
  }, [props.chats, query]);
  return (
    <nav class="chat-list" aria-labelledby="chats-title">
      <div class="chat-list-head">
        <h2 id="chats-title">Chats</h2>
        <div class="row">
          <button type="button" onClick={props.onNewChat}>
            New chat
          </button>
          <button type="button" class="secondary" onClick={props.onNewGroup}>
            New group
          </button>
        </div>
        <button
          type="button"
          class={`chat-item requests-entry${props.requestsOpen ? ' selected' : ''}`}
          aria-current={props.requestsOpen ? 'page' : undefined}
          onClick={props.onRequests}
        >
          <span class="chat-title">Requests</span>
          <span class="chat-last">
            {props.requestCount === 0 ? 'None waiting' : 'From people who are not your contacts'}
          </span>
          {props.requestCount > 0 && (
            <span class="badge">
              {props.requestCount}
              <span class="visually-hidden"> waiting</span>
            </span>
          )}
        </button>
        <button
          type="button"
          class={`chat-item channels-entry${props.channelsOpen ? ' selected' : ''}`}
          aria-current={props.channelsOpen ? 'page' : undefined}
          onClick={props.onChannels}
        >
          <span class="chat-title">Channels</span>
          <span class="chat-last">Public broadcasts you follow or run</span>
          {props.channelUnread > 0 && (
            <span class="badge">
              {props.channelUnread}
              <span class="visually-hidden"> unread posts</span>
            </span>
          )}
        </button>
        <label for="chat-search" class="visually-hidden">
          Search chats
        </label>
        <input
          id="chat-search"
          type="search"
          placeholder="Search chats"
          value={query}
          onInput={(e) => setQuery(e.currentTarget.value)}
        />
      </div>
      {shown.length === 0 ? (
        <p class="empty">
          {props.chats.length === 0 ? 'No chats yet. Start one with “New chat”.' : 'No chat matches.'}
        </p>
      ) : (
        <VirtualList
          items={shown}
          rowHeight={64}
          label="Your chats"
          keyOf={(c) => c.groupId}
          render={(chat) => (
            <button
              type="button"
              class={`chat-item${chat.groupId === props.selected ? ' selected' : ''}`}
              aria-current={chat.groupId === props.selected ? 'page' : undefined}
              onClick={() => props.onOpen(chat.groupId)}
            >
              <span class="chat-title">
                {chat.title || 'Untitled chat'}
                {chat.kind === 'group' && <span class="tag"> · group</span>}
              </span>
              <span class="chat-last">
                {chat.ready ? chat.lastText || 'No messages yet' : 'Setting up encryption…'}
              </span>
              {chat.unread > 0 && (
                <span class="badge">
                  {chat.unread}
                  <span class="visually-hidden"> unread</span>
                </span>
              )}
            </button>
          )}
        />
      )}
    </nav>
  );
}
