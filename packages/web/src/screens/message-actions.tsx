/**
 * The menu of one message (issue 14): reply, forward (pick a chat), edit (own texts), delete for
 * everyone (own messages; the person is told plainly that it cannot be guaranteed on modified
 * clients) and quick reactions. A button opens it; arrow keys move through it, Escape closes it
 * and gives focus back. Reply, edit and forward open a modal <dialog> (the browser keeps the
 * keyboard inside it, Escape closes it).
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { device } from '../rpc.ts';
import './message-actions.css';
import { Reactions } from '../ui/reactions.tsx';
import type { ChatSummary, MessageRow } from '../worker/types.ts';

export const QUICK_REACTIONS = ['👍', '❤️', '😂', '😮', '😢', '🎉'] as const;

type Mode = { kind: 'reply' } | { kind: 'edit' } | { kind: 'forward' };

export function MessageActions(props: {
  groupId: string;
  row: MessageRow;
  run: (action: () => Promise<void>) => void;
  onNotice: (text: string) => void;
}) {
  const { row } = props;
  const marks = row.actions;
  const [open, setOpen] = useState(false);
  const [mode, setMode] = useState<Mode | undefined>(undefined);
  const button = useRef<HTMLButtonElement>(null);
  const menu = useRef<HTMLDivElement>(null);
  const id = `actions-${row.key.replace(/[^A-Za-z0-9_-]/g, '_')}`;

  useEffect(() => {
    if (open) menu.current?.querySelector<HTMLButtonElement>('button')?.focus();
  }, [open]);

  if (!marks || marks.deleted) return <Reactions groupId={props.groupId} row={row} run={props.run} />;

  const close = () => {
    setOpen(false);
    button.current?.focus();
  };
  const act = (request: Parameters<typeof device.messageAction>[1]) =>
    props.run(async () => {
      const notice = await device.messageAction(props.groupId, request);
      if (notice) props.onNotice(notice);
    });
  const pick = (next: Mode) => {
    setOpen(false);
    setMode(next);
  };
  const remove = () => {
    setOpen(false);
    if (
      !window.confirm(
        'Delete this message for everyone? It disappears from every device that honours deletion; this cannot be guaranteed on modified clients.',
      )
    )
      return;
    act({ kind: 'delete', ref: marks.ref });
  };
  const react = (emoji: string) => {
    setOpen(false);
    const mine = marks.reactions?.some((r) => r.emoji === emoji && r.mine) ?? false;
    act({ kind: 'react', ref: marks.ref, emoji, on: !mine });
  };

  return (
    <div class="message-actions">
      <Reactions groupId={props.groupId} row={row} run={props.run} />
      <button
        ref={button}
        type="button"
        class="secondary actions-button"
        aria-haspopup="menu"
        aria-expanded={open}
        aria-controls={id}
        onClick={() => setOpen(!open)}
      >
        <span aria-hidden="true">⋯</span>
        <span class="visually-hidden">Message actions</span>
      </button>
      {open && (
        <div
          id={id}
          ref={menu}
          class="menu-items message-menu"
          role="menu"
          aria-label="Message actions"
          tabIndex={-1}
          onKeyDown={(e) => {
            const items = [...(menu.current?.querySelectorAll<HTMLButtonElement>('button') ?? [])];
            const at = items.indexOf(document.activeElement as HTMLButtonElement);
            if (e.key === 'Escape') {
              e.preventDefault();
              close();
            } else if (e.key === 'ArrowDown' || e.key === 'ArrowRight') {
              e.preventDefault();
              items[(at + 1) % items.length]?.focus();
            } else if (e.key === 'ArrowUp' || e.key === 'ArrowLeft') {
              e.preventDefault();
              items[(at - 1 + items.length) % items.length]?.focus();
            }
          }}
        >
          <div class="quick-reactions">
            {QUICK_REACTIONS.map((emoji) => (
              <button
                key={emoji}
                type="button"
                role="menuitem"
                class="secondary"
                aria-label={`React ${emoji}`}
                onClick={() => react(emoji)}
              >
                {emoji}
              </button>
            ))}
          </div>
          <button type="button" role="menuitem" class="secondary" onClick={() => pick({ kind: 'reply' })}>
            Reply
          </button>
          {marks.forwardable && (
            <button type="button" role="menuitem" class="secondary" onClick={() => pick({ kind: 'forward' })}>
              Forward…
            </button>
          )}
          {marks.mine && marks.text && (
            <button type="button" role="menuitem" class="secondary" onClick={() => pick({ kind: 'edit' })}>
              Edit
            </button>
          )}
          {marks.mine && (
            <button type="button" role="menuitem" class="danger" onClick={remove}>
              Delete for everyone
            </button>
          )}
        </div>
      )}
      {mode &&
        (mode.kind === 'forward' ? (
          <ForwardDialog
            fromGroupId={props.groupId}
            onClose={() => setMode(undefined)}
            onPick={(toGroupId, title) => {
              setMode(undefined);
              props.run(async () => {
                await device.messageAction(props.groupId, { kind: 'forward', ref: marks.ref, toGroupId });
                props.onNotice(`Forwarded to ${title}.`);
              });
            }}
          />
        ) : (
          <TextDialog
            title={
              mode.kind === 'reply'
                ? `Reply to ${row.outgoing ? 'your message' : row.senderName}`
                : 'Edit message'
            }
            quote={row.text}
            initial={mode.kind === 'edit' ? row.text : ''}
            action={mode.kind === 'reply' ? 'Send reply' : 'Save edit'}
            onClose={() => setMode(undefined)}
            onSubmit={(text) => {
              setMode(undefined);
              act(
                mode.kind === 'reply'
                  ? { kind: 'reply', ref: marks.ref, text }
                  : { kind: 'edit', ref: marks.ref, text },
              );
            }}
          />
        ))}
    </div>
  );
}

function TextDialog(props: {
  title: string;
  quote: string;
  initial: string;
  action: string;
  onClose: () => void;
  onSubmit: (text: string) => void;
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [text, setText] = useState(props.initial);
  useEffect(() => {
    dialog.current?.showModal();
  }, []);
  const submit = () => {
    const body = text.trim();
    if (body !== '') props.onSubmit(body);
  };
  return (
    <dialog
      ref={dialog}
      class="action-dialog"
      aria-labelledby="action-title"
      onClose={props.onClose}
      onCancel={props.onClose}
    >
      <h2 id="action-title">{props.title}</h2>
      {props.quote && (
        <blockquote class="quote">
          <span class="quote-text">{props.quote}</span>
        </blockquote>
      )}
      <form
        onSubmit={(event) => {
          event.preventDefault();
          submit();
        }}
      >
        <label for="action-text">Message</label>
        <textarea
          id="action-text"
          rows={3}
          value={text}
          onInput={(e) => setText(e.currentTarget.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter' && !e.shiftKey) {
              e.preventDefault();
              submit();
            }
          }}
        />
        <div class="row">
          <button type="submit">{props.action}</button>
          <button type="button" class="secondary" onClick={() => dialog.current?.close()}>
            Cancel
          </button>
        </div>
      </form>
    </dialog>
  );
}

function ForwardDialog(props: {
  fromGroupId: string;
  onClose: () => void;
  onPick: (groupId: string, title: string) => void;
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [chats, setChats] = useState<ChatSummary[] | undefined>(undefined);
  useEffect(() => {
    dialog.current?.showModal();
    void device.chats().then((all) => setChats(all.filter((c) => c.ready && !c.request)));
  }, []);
  return (
    <dialog
      ref={dialog}
      class="action-dialog"
      aria-labelledby="forward-title"
      onClose={props.onClose}
      onCancel={props.onClose}
    >
      <h2 id="forward-title">Forward to…</h2>
      {chats === undefined ? (
        <p>Loading chats…</p>
      ) : (
        <ul class="forward-chats">
          {chats.map((c) => (
            <li key={c.groupId}>
              <button
                type="button"
                class="secondary"
                onClick={() => props.onPick(c.groupId, c.title || 'Untitled chat')}
              >
                {c.title || 'Untitled chat'}
                {c.groupId === props.fromGroupId ? ' (this chat)' : ''}
              </button>
            </li>
          ))}
        </ul>
      )}
      <button type="button" class="secondary" onClick={() => dialog.current?.close()}>
        Cancel
      </button>
    </dialog>
  );
}
