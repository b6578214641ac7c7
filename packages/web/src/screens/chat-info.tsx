/**
 * A chat's info: its members (a virtualised list, smooth at 5,000) with their roles, and what the
 * person's role allows (add, remove, make admin), leaving the chat, and, in a direct chat, the
 * contact's safety number.
 */
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { device } from '../rpc.ts';
import { ActionButton } from '../ui/action-button.tsx';
import { Alert, useAction } from '../ui/errors.tsx';
import { VirtualList } from '../ui/virtual-list.tsx';
import type { ChatInfo as Info, MemberRow } from '../worker/types.ts';
import { splitHandles } from './new-chat.tsx';
import { ReportDialog } from './report-dialog.tsx';
import { SafetyNumber } from './safety-number.tsx';

const ROLE = { owner: 'Owner', admin: 'Admin', member: 'Member' } as const;
const COUNT = new Intl.NumberFormat('en');
/** How long the member list rests on some rows before their names are asked for. */
const RANGE_SETTLE_MS = 100;

export function ChatInfo(props: {
  groupId: string;
  version: number;
  onBack: () => void;
  /** The chat went from the list (left, deleted, or its person blocked): says what happened. */
  onLeft: (what: string) => void;
}) {
  const [info, setInfo] = useState<Info | undefined>();
  const [reporting, setReporting] = useState(false);
  const [adding, setAdding] = useState('');
  const { error, busy, run } = useAction();
  const heading = useRef<HTMLHeadingElement>(null);
  // A group's members come without the names the device does not know yet: those of the rows in
  // view are asked for as the list shows them (never one lookup per member of a 5,000 roster).
  const [names, setNames] = useState<Readonly<Record<string, string>>>({});
  const asked = useRef(new Set<string>());
  const load = () => run(async () => setInfo(await device.chatInfo(props.groupId)));
  useEffect(() => void load(), [props.groupId, props.version]);
  useEffect(() => {
    asked.current = new Set();
    setNames({});
  }, [props.groupId]);
  const settle = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  useEffect(() => () => clearTimeout(settle.current), []);
  // Rows passed over by a fast scroll (End, a dragged scrollbar) are not asked for: only those the
  // list rests on for a moment.
  const onRange = useCallback(
    (first: number, last: number) => {
      clearTimeout(settle.current);
      settle.current = setTimeout(() => askNames(first, last), RANGE_SETTLE_MS);
    },
    [info],
  );
  const askNames = (first: number, last: number) => {
    if (!info) return;
    const wanted = info.members
      .slice(first, last)
      .filter((m) => m.name === undefined && !asked.current.has(m.accountId))
      .map((m) => m.accountId);
    if (wanted.length === 0) return;
    for (const id of wanted) asked.current.add(id);
    device.memberNames(wanted).then(
      (found) => setNames((before) => ({ ...before, ...found })),
      // Asked again when the rows come into view again (e.g. after a reconnect).
      () => {
        for (const id of wanted) asked.current.delete(id);
      },
    );
  };
  useEffect(() => heading.current?.focus(), [props.groupId]);

  const admin = info !== undefined && info.kind === 'group' && info.myRole !== 'member';
  const memberRow = (row: MemberRow) => {
    const name = row.name ?? names[row.accountId];
    const m = { ...row, name: name ?? 'this member' };
    return (
      <div class="member">
        {name === undefined ? (
          <span class="member-name pending">Loading name…</span>
        ) : (
          <span class="member-name">{name}</span>
        )}
        <span class="role">{ROLE[m.role]}</span>
        {admin && !m.me && m.role !== 'owner' && (
          <span class="member-actions">
            <ActionButton
              kind="secondary"
              busy={busy}
              run={run}
              action={async () => {
                await device.setRole(props.groupId, m.accountId, m.role === 'admin' ? 'member' : 'admin');
                setInfo(await device.chatInfo(props.groupId));
              }}
            >
              {m.role === 'admin' ? `Make ${m.name} a member` : `Make ${m.name} an admin`}
            </ActionButton>
            <ActionButton
              kind="secondary"
              busy={busy}
              run={run}
              confirm={`Remove ${m.name} from the group?`}
              action={async () => {
                await device.removeMember(props.groupId, m.accountId);
                setInfo(await device.chatInfo(props.groupId));
              }}
            >
              Remove {m.name}
            </ActionButton>
          </span>
        )}
      </div>
    );
  };

  return (
    <section class="pane-body chat-info" aria-labelledby="info-title">
      <button type="button" class="secondary" onClick={props.onBack}>
        Back to the chat
      </button>
      <h2 id="info-title" tabIndex={-1} ref={heading}>
        {info ? (info.kind === 'direct' ? info.title : `${info.title} — group info`) : 'Chat info'}
      </h2>
      {info && info.kind === 'direct' && info.peerAccountId && (
        <>
          <SafetyNumber accountId={info.peerAccountId} />
          <div class="row person-actions">
            <button type="button" class="secondary" disabled={busy} onClick={() => setReporting(true)}>
              Report {info.title}…
            </button>
            <ActionButton
              kind="secondary"
              busy={busy}
              run={run}
              confirm={`Block ${info.title}? They are not told. Nothing they send reaches you, and this chat goes from your list.`}
              action={async () => {
                await device.block(info.peerAccountId!);
                props.onLeft(`${info.title} is blocked.`);
              }}
            >
              Block {info.title}
            </ActionButton>
            <ActionButton
              kind="danger"
              busy={busy}
              run={run}
              confirm={`Delete the chat with ${info.title}? It goes from your list and you stop being contacts; ${info.title} sees that you left.`}
              action={async () => {
                await device.leave(props.groupId);
                props.onLeft('Chat deleted.');
              }}
            >
              Delete chat
            </ActionButton>
          </div>
          {reporting && (
            <ReportDialog
              groupId={props.groupId}
              title={info.title}
              peer={{ accountId: info.peerAccountId, name: info.title }}
              onClose={() => setReporting(false)}
              onSent={(blocked) => {
                setReporting(false);
                if (blocked) props.onLeft(`Report sent, and ${info.title} is blocked.`);
              }}
            />
          )}
        </>
      )}
      {info && info.kind !== 'direct' && (
        <>
          <p>
            {COUNT.format(info.members.length)} {info.members.length === 1 ? 'member' : 'members'}. Your role:{' '}
            {ROLE[info.myRole]}.
          </p>
          {info.receiptsOff && (
            <p class="receipts-off" data-receipts="off">
              {info.receiptsOff}: nobody here sees when you received or read a message, and you do not see it
              of others. Your own devices still know what you read.
            </p>
          )}
          <VirtualList
            items={info.members}
            rowHeight={52}
            label="Members"
            className="members"
            // A member's rows hold no buttons: the list itself takes focus, to scroll it by keyboard.
            focusable={!admin}
            fitUpTo="60vh"
            keyOf={(m) => m.accountId}
            render={memberRow}
            onRange={onRange}
          />
          {admin && (
            <form
              onSubmit={(event) => {
                event.preventDefault();
                void run(async () => {
                  await device.addMembers(props.groupId, splitHandles(adding));
                  setAdding('');
                  setInfo(await device.chatInfo(props.groupId));
                });
              }}
            >
              <label for="add-members">Add members (usernames or phone numbers, separated by commas)</label>
              <input
                id="add-members"
                required
                value={adding}
                onInput={(e) => setAdding(e.currentTarget.value)}
              />
              <button type="submit" disabled={busy}>
                Add
              </button>
            </form>
          )}
          <ActionButton
            kind="danger"
            busy={busy}
            run={run}
            confirm={`Leave “${info.title}”? You stop getting its messages.`}
            action={async () => {
              await device.leave(props.groupId);
              props.onLeft(`You left “${info.title}”.`);
            }}
          >
            Leave group
          </ActionButton>
        </>
      )}
      <Alert text={error} />
    </section>
  );
}
