/**
 * One chat: its history (newest page first, older pages loaded as the person scrolls up), day
 * separators, each sent message's state (queued on this device → stored by the server → delivered →
 * read, from end-to-end receipts), a warning
 * when a contact's keys changed, and the composer. Texts written offline wait in the device's outbox
 * and go out when the connection is back.
 */
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import { device } from '../rpc.ts';
import { timeOfDay, withDaySeparators } from '../ui/day-groups.ts';
import { Alert, useAction } from '../ui/errors.tsx';
import { MediaComposer } from '../ui/media-composer.tsx';
import { MediaMessage } from '../ui/media-message.tsx';
import { MessageBody } from '../ui/message-marks.tsx';
import { StickerImage } from '../ui/sticker-image.tsx';
import type { ChatSummary, MessageRow } from '../worker/types.ts';
import { MessageActions } from './message-actions.tsx';
import { ReportDialog } from './report-dialog.tsx';
import { StickerPicker } from './sticker-picker.tsx';

const STATE_TEXT = {
  queued: 'Queued: sends when online',
  stored: 'Sent',
  delivered: 'Delivered',
  read: 'Read',
} as const;

export function ChatView(props: {
  chat: ChatSummary;
  /** Bumped by the shell whenever the worker says this chat's messages changed. */
  version: number;
  keysChanged: boolean;
  /** The person marked this contact verified (compared the safety number). */
  verified: boolean;
  online: boolean;
  onInfo: () => void;
  onBack: () => void;
  onSafety: (accountId: string) => void;
  /** The chat went from this device's list (left, deleted, declined, or its person blocked). */
  onGone: (what: string) => void;
  /** A message request was accepted: it is a chat now. */
  onAccepted?: () => void;
  /** Opens the sticker packs screen (from the picker). */
  onStickerPacks?: () => void;
}) {
  const { chat } = props;
  const request = chat.request === true;
  const [menu, setMenu] = useState(false);
  const [reporting, setReporting] = useState(false);
  const [notice, setNotice] = useState('');
  const [rows, setRows] = useState<MessageRow[]>([]);
  const [more, setMore] = useState(false);
  const [text, setText] = useState('');
  const [stickers, setStickers] = useState(false);
  /** In a group over the device limit: why sent messages get no delivered or read marks. */
  const [receiptsOff, setReceiptsOff] = useState<string | undefined>(undefined);
  const { error, run } = useAction();
  const log = useRef<HTMLDivElement>(null);
  /** The cursor of the oldest page shown (0: the whole chat is shown; undefined: nothing yet). */
  const oldest = useRef<number | undefined>(undefined);
  const shown = useRef(0);
  /** The person loaded older pages: a refresh keeps them (else it reads the newest page only). */
  const scrolledBack = useRef(false);
  const anchor = useRef<{ height: number; top: number } | undefined>(undefined);
  const stickToBottom = useRef(true);
  const loadingOlder = useRef(false);

  useEffect(() => {
    oldest.current = undefined;
    shown.current = 0;
    scrolledBack.current = false;
    stickToBottom.current = true;
    setMenu(false);
  }, [chat.groupId]);

  // The newest page, and again (down to the oldest page shown) whenever the chat changes.
  useEffect(() => {
    let cancelled = false;
    void run(async () => {
      const page =
        oldest.current === undefined || !scrolledBack.current
          ? // A flood of new messages into an open chat re-reads one page each time, not the chat.
            await device.page(chat.groupId)
          : await device.pageSince(chat.groupId, oldest.current, shown.current);
      if (cancelled) return;
      oldest.current = page.before ?? 0;
      shown.current = page.rows.length;
      // Asked again after a change elsewhere (a read, a receipt for another chat's message): the same
      // rows keep the rendered history as it is.
      setRows((current) => (sameRows(current, page.rows) ? current : page.rows));
      setMore(page.more);
      // Asked with each refresh: a group can grow past the limit (or shrink under it) while open.
      if (chat.ready && !request) {
        const off = await device.receiptsNotice(chat.groupId);
        if (!cancelled) setReceiptsOff(off);
      } else setReceiptsOff(undefined);
      // A request is only looked at: nothing marks it read (nor, later, seen by its sender); nor is a
      // chat in a tab the person is not looking at.
      if (!request && document.visibilityState === 'visible') await device.markRead(chat.groupId);
    });
    return () => {
      cancelled = true;
    };
  }, [chat.groupId, chat.ready, props.version, request, run]);

  // Back to a tab that shows the chat: what it shows is read now.
  useEffect(() => {
    if (request) return;
    const seen = () => {
      if (document.visibilityState === 'visible') void device.markRead(chat.groupId).catch(() => {});
    };
    document.addEventListener('visibilitychange', seen);
    return () => document.removeEventListener('visibilitychange', seen);
  }, [chat.groupId, request]);

  const peer = chat.peerAccountId;
  const blockPeer = () =>
    void run(async () => {
      if (!peer) return;
      if (
        !window.confirm(
          `Block ${chat.title}? They are not told. Nothing they send reaches you, and this chat goes from your list.`,
        )
      )
        return;
      await device.block(peer);
      props.onGone(`${chat.title} is blocked.`);
    });
  const leaveChat = () =>
    void run(async () => {
      const question =
        chat.kind === 'direct'
          ? `Delete the chat with ${chat.title}? It goes from your list and you stop being contacts; ${chat.title} sees that you left.`
          : `Leave “${chat.title}”? You stop getting its messages.`;
      if (!window.confirm(question)) return;
      await device.leave(chat.groupId);
      props.onGone(chat.kind === 'direct' ? 'Chat deleted.' : `You left “${chat.title}”.`);
    });
  const accept = () =>
    void run(async () => {
      await device.acceptRequest(chat.groupId);
      props.onAccepted?.();
    });
  const decline = () =>
    void run(async () => {
      await device.declineRequest(chat.groupId);
      props.onGone('Request deleted.');
    });

  useLayoutEffect(() => {
    const element = log.current;
    if (!element) return;
    if (anchor.current) {
      // Older messages went in above: keep what the person was looking at in place.
      element.scrollTop = element.scrollHeight - anchor.current.height + anchor.current.top;
      anchor.current = undefined;
    } else if (stickToBottom.current) element.scrollTop = element.scrollHeight;
  }, [rows]);

  const loadOlder = async () => {
    const element = log.current;
    if (!element || !more || loadingOlder.current || !oldest.current) return;
    loadingOlder.current = true;
    try {
      const page = await device.page(chat.groupId, oldest.current);
      oldest.current = page.before ?? 0;
      shown.current += page.rows.length;
      scrolledBack.current = true;
      anchor.current = { height: element.scrollHeight, top: element.scrollTop };
      setRows((current) => [...page.rows, ...current]);
      setMore(page.more);
    } finally {
      loadingOlder.current = false;
    }
  };

  const send = () => {
    const body = text.trim();
    if (body === '') return;
    setText('');
    stickToBottom.current = true;
    void run(() => device.send(chat.groupId, body));
  };

  // The history is built again only when its rows change: typing, a menu or a notice re-render the
  // view but not its (up to hundreds of) messages.
  const messageList = useMemo(() => {
    const entries = withDaySeparators(rows, (r) => r.sentAtMs, Date.now());
    return (
      <ol class="message-list">
        {entries.map((entry) =>
          entry.kind === 'day' ? (
            <li key={entry.key} class="day">
              <span>{entry.label}</span>
            </li>
          ) : entry.item.notice ? (
            <li key={entry.item.key} class="notice">
              {entry.item.text}
            </li>
          ) : (
            <li
              key={entry.item.key}
              class={`message ${entry.item.outgoing ? 'out' : 'in'}`}
              data-seq={entry.item.seq}
            >
              {!entry.item.outgoing && chat.kind !== 'direct' && (
                <span class="sender">{entry.item.senderName}</span>
              )}
              {entry.item.actions?.deleted ? (
                <MessageBody row={entry.item} />
              ) : entry.item.file ? (
                <MediaMessage
                  groupId={chat.groupId}
                  messageKey={entry.item.key}
                  file={entry.item.file}
                  forwardedFrom={entry.item.actions?.forwardedFrom}
                />
              ) : entry.item.sticker ? (
                <span class="text">
                  <StickerImage sticker={entry.item.sticker} />
                </span>
              ) : (
                <MessageBody row={entry.item} />
              )}
              <span class="meta">
                <time dateTime={new Date(entry.item.sentAtMs).toISOString()}>
                  {timeOfDay(entry.item.sentAtMs)}
                </time>
                {entry.item.state && (
                  <span class={`state ${entry.item.state}`} data-state={entry.item.state}>
                    {' · '}
                    {STATE_TEXT[entry.item.state]}
                    {/* No ticks that never come: a sent message here stays "Sent". */}
                    {receiptsOff && entry.item.state === 'stored' ? ' (no receipts in this group)' : ''}
                  </span>
                )}
              </span>
              {!request && (
                <MessageActions groupId={chat.groupId} row={entry.item} run={run} onNotice={setNotice} />
              )}
            </li>
          ),
        )}
      </ol>
    );
  }, [rows, chat.groupId, chat.kind, request, run, receiptsOff]);
  return (
    <section class="chat-view" aria-labelledby="chat-title">
      <header class="chat-head">
        <button type="button" class="back secondary" onClick={props.onBack}>
          Chats
        </button>
        <h2 id="chat-title">{chat.title || 'Untitled chat'}</h2>
        {props.verified && (
          <span class="verified" title="You compared the safety number">
            ✓ Verified
          </span>
        )}
        {!request && (
          <button type="button" class="secondary" onClick={props.onInfo}>
            Chat info
          </button>
        )}
        {!request && (
          <div class="chat-menu">
            <button
              type="button"
              class="secondary"
              aria-expanded={menu}
              aria-controls="chat-menu-items"
              title="Chat menu"
              onClick={() => setMenu(!menu)}
              onKeyDown={(e) => {
                if (e.key === 'Escape') setMenu(false);
              }}
            >
              <span aria-hidden="true">⋯</span>
              <span class="visually-hidden">Chat menu</span>
            </button>
            {menu && (
              <ul id="chat-menu-items" class="menu-items">
                <li>
                  <button
                    type="button"
                    class="secondary"
                    onClick={() => {
                      setMenu(false);
                      setReporting(true);
                    }}
                  >
                    Report…
                  </button>
                </li>
                {peer && (
                  <li>
                    <button type="button" class="secondary" onClick={blockPeer}>
                      Block {chat.title}
                    </button>
                  </li>
                )}
                <li>
                  <button type="button" class="danger" onClick={leaveChat}>
                    {chat.kind === 'direct' ? 'Delete chat' : 'Leave group'}
                  </button>
                </li>
              </ul>
            )}
          </div>
        )}
      </header>
      {request && (
        <section class="request-bar" aria-label="Message request">
          <p>
            {chat.title} is not in your contacts and wants to write to you. They are not told whether you read
            this, and see neither your phone number nor when you were last online; if you accept, they see
            what your privacy settings show contacts.
          </p>
          <div class="row">
            <button type="button" onClick={accept}>
              Accept
            </button>
            <button type="button" class="secondary" onClick={decline}>
              Delete
            </button>
            {peer && (
              <button type="button" class="secondary" onClick={blockPeer}>
                Block
              </button>
            )}
            <button type="button" class="secondary" onClick={() => setReporting(true)}>
              Report…
            </button>
          </div>
        </section>
      )}
      {props.keysChanged && chat.peerAccountId && (
        <div class="warning" role="status">
          {chat.title}’s safety number changed: they may have a new device, or someone may be intercepting.
          Compare it before you trust new messages.{' '}
          <button type="button" class="secondary" onClick={() => props.onSafety(chat.peerAccountId!)}>
            Compare safety number
          </button>
        </div>
      )}
      {receiptsOff && (
        <p class="notice-line receipts-off" role="status" data-receipts="off">
          {receiptsOff}
        </p>
      )}
      {!props.online && (
        <p class="offline" role="status">
          You are offline. Messages you write now are sent when you are back online.
        </p>
      )}
      <div
        class="messages"
        ref={log}
        role="log"
        aria-label={`Messages with ${chat.title || 'this chat'}`}
        // The history scrolls: keyboard users reach it to scroll with the arrow keys.
        // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must be focusable (WCAG 2.1.1)
        tabIndex={0}
        onScroll={(event) => {
          const element = event.currentTarget as HTMLDivElement;
          stickToBottom.current = element.scrollHeight - element.scrollTop - element.clientHeight < 40;
          if (element.scrollTop < 120) void loadOlder();
        }}
      >
        {more && (
          <button type="button" class="secondary older" onClick={() => void loadOlder()}>
            Load older messages
          </button>
        )}
        {!chat.ready && <p class="notice">Setting up end-to-end encryption for this chat…</p>}
        {messageList}
      </div>
      {!request && <MediaComposer groupId={chat.groupId} ready={chat.ready} />}
      {!request && stickers && chat.ready && (
        <StickerPicker
          onPick={async (sticker) => {
            stickToBottom.current = true;
            await device.sendSticker(chat.groupId, sticker);
            setStickers(false);
          }}
          onClose={() => setStickers(false)}
          onManage={() => props.onStickerPacks?.()}
        />
      )}
      {!request && (
        <form
          class="composer"
          onSubmit={(event) => {
            event.preventDefault();
            send();
          }}
        >
          <label for="composer" class="visually-hidden">
            Message
          </label>
          <textarea
            id="composer"
            rows={1}
            placeholder={chat.ready ? 'Write a message' : 'Waiting for encryption keys…'}
            disabled={!chat.ready}
            value={text}
            onInput={(e) => setText(e.currentTarget.value)}
            onKeyDown={(e) => {
              if (e.key === 'Enter' && !e.shiftKey) {
                e.preventDefault();
                send();
              }
            }}
          />
          <button
            type="button"
            class="secondary"
            aria-expanded={stickers}
            disabled={!chat.ready}
            onClick={() => setStickers(!stickers)}
          >
            Stickers
          </button>
          <button type="submit" disabled={!chat.ready}>
            Send
          </button>
        </form>
      )}
      {reporting && (
        <ReportDialog
          groupId={chat.groupId}
          title={chat.title}
          {...(peer ? { peer: { accountId: peer, name: chat.title } } : {})}
          onClose={() => setReporting(false)}
          onSent={(blocked) => {
            setReporting(false);
            if (blocked) props.onGone(`Report sent, and ${chat.title} is blocked.`);
            else setNotice('Report sent. Thank you.');
          }}
        />
      )}
      <p class="notice-line" role="status">
        {notice}
      </p>
      <Alert text={error} />
    </section>
  );
}

/** Two runs of rows that show the same (rows are plain data from the worker). */
function sameRows(a: readonly MessageRow[], b: readonly MessageRow[]): boolean {
  return a.length === b.length && JSON.stringify(a) === JSON.stringify(b);
}
