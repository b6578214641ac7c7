/** Start a direct chat (by @username or phone number) or a group. */
import { useEffect, useRef, useState } from 'preact/hooks';
import { device } from '../rpc.ts';
import { Alert, useAction } from '../ui/errors.tsx';

export const splitHandles = (text: string) =>
  text
    .split(/[,\n]/)
    .map((s) => s.trim())
    .filter((s) => s !== '');

export function NewChat(props: { onOpened: (groupId: string) => void }) {
  const [handle, setHandle] = useState('');
  const { error, busy, run } = useAction();
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);
  return (
    <section class="pane-body" aria-labelledby="new-chat-title">
      <h2 id="new-chat-title" tabIndex={-1} ref={heading}>
        New chat
      </h2>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          void run(async () => props.onOpened(await device.openDirect(handle)));
        }}
      >
        <label for="new-chat-handle">Username or phone number</label>
        <input
          id="new-chat-handle"
          required
          placeholder="@alice or +44 20 7946 0000"
          value={handle}
          onInput={(e) => setHandle(e.currentTarget.value)}
        />
        <button type="submit" disabled={busy}>
          Open chat
        </button>
      </form>
      <Alert text={error} />
    </section>
  );
}

export function NewGroup(props: { onOpened: (groupId: string) => void }) {
  const [title, setTitle] = useState('');
  const [members, setMembers] = useState('');
  const { error, busy, run } = useAction();
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);
  return (
    <section class="pane-body" aria-labelledby="new-group-title">
      <h2 id="new-group-title" tabIndex={-1} ref={heading}>
        New group
      </h2>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          void run(async () => props.onOpened(await device.createGroup(title.trim(), splitHandles(members))));
        }}
      >
        <label for="group-title">Group name</label>
        <input
          id="group-title"
          required
          maxLength={128}
          value={title}
          onInput={(e) => setTitle(e.currentTarget.value)}
        />
        <label for="group-members">Members (usernames or phone numbers, separated by commas)</label>
        <textarea
          id="group-members"
          rows={3}
          value={members}
          onInput={(e) => setMembers(e.currentTarget.value)}
        />
        <button type="submit" disabled={busy}>
          Create group
        </button>
      </form>
      <Alert text={error} />
    </section>
  );
}
