/**
 * Requests (issue 12): message requests from people who are not my contacts and invitations to
 * groups, kept apart from the chats. Opening one shows it without marking anything read; an
 * invitation offers Accept, Delete and Block (its inviter), and says who invited me to what.
 */
import { useEffect, useRef } from 'preact/hooks';
import { device } from '../rpc.ts';
import { ActionButton } from '../ui/action-button.tsx';
import { Alert, useAction } from '../ui/errors.tsx';
import type { RequestRow } from '../worker/types.ts';

export function Requests(props: {
  requests: RequestRow[];
  onOpen: (groupId: string) => void;
  onRefresh: () => void;
}) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    heading.current?.focus();
    props.onRefresh();
  }, []);
  return (
    <section class="pane-body requests" aria-labelledby="requests-title">
      <h2 id="requests-title" tabIndex={-1} ref={heading}>
        Requests
      </h2>
      <p class="hint">
        People who are not your contacts, and invitations to groups from people who may not add you directly.
        Nobody is told whether you opened their request.
      </p>
      {props.requests.length === 0 ? (
        <p class="empty">No requests.</p>
      ) : (
        <ul class="request-list" aria-label="Waiting requests">
          {props.requests.map((r) => (
            <li key={r.groupId}>
              <button type="button" class="chat-item" onClick={() => props.onOpen(r.groupId)}>
                <span class="chat-title">
                  {r.type === 'invitation' ? `${r.title}` : r.fromName}
                  <span class="tag">
                    {r.type === 'invitation' ? ' · group invitation' : ' · message request'}
                  </span>
                </span>
                <span class="chat-last">
                  {r.type === 'invitation'
                    ? `${r.fromName} invited you · ${r.memberCount} ${r.memberCount === 1 ? 'member' : 'members'}`
                    : r.ready
                      ? r.lastText || 'No messages yet'
                      : 'Setting up encryption…'}
                </span>
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

/** A group invitation: who invited me to which group; Accept, Delete, or Block the inviter. */
export function Invitation(props: {
  request: RequestRow;
  onBack: () => void;
  onAccepted: (groupId: string) => void;
  onGone: (what: string) => void;
}) {
  const { request } = props;
  const { error, busy, run } = useAction();
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), [request.groupId]);
  return (
    <section class="pane-body invitation" aria-labelledby="invitation-title">
      <button type="button" class="secondary" onClick={props.onBack}>
        Back to requests
      </button>
      <h2 id="invitation-title" tabIndex={-1} ref={heading}>
        Invitation to “{request.title}”
      </h2>
      <p>
        {request.fromName} invited you to the group “{request.title}” ({request.memberCount}{' '}
        {request.memberCount === 1 ? 'member' : 'members'}). You are not in it until you accept; nobody is
        told if you delete the invitation.
      </p>
      <div class="row">
        <ActionButton
          busy={busy}
          run={run}
          action={async () => {
            await device.acceptRequest(request.groupId);
            props.onAccepted(request.groupId);
          }}
        >
          Accept
        </ActionButton>
        <ActionButton
          kind="secondary"
          busy={busy}
          run={run}
          action={async () => {
            await device.declineRequest(request.groupId);
            props.onGone('Invitation deleted.');
          }}
        >
          Delete
        </ActionButton>
        <ActionButton
          kind="secondary"
          busy={busy}
          run={run}
          confirm={`Block ${request.fromName}? They are not told.`}
          action={async () => {
            await device.block(request.fromAccountId);
            props.onGone(`${request.fromName} is blocked.`);
          }}
        >
          Block {request.fromName}
        </ActionButton>
      </div>
      <Alert text={error} />
    </section>
  );
}
