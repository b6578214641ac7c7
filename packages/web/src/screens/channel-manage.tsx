/**
 * Running a channel (issue 16): its title and description (its owner and admins edit them), invite links (made, shown once, revoked) and the list of its owner
 * and admins (by name and @username, never a phone number) for its owner and admins; naming and
 * removing admins for its owner. Naming an admin hands them the channel's key end to end (in the
 * direct chat with them, which all their devices are in); "Send key again" sends it once more, for a
 * device that joined since or missed it, and the owner can send it to their own other devices.
 */
import { useEffect, useState } from 'preact/hooks';
import { MAX_CHANNEL_DESCRIPTION_LENGTH, MAX_CHANNEL_TITLE_LENGTH } from '@courier/protocol';
import { device } from '../rpc.ts';
import { channelLink } from '../ui/channel-link.ts';
import { Alert, useAction } from '../ui/errors.tsx';
import type { ChannelAdminRow, ChannelInviteRow, ChannelSummary } from '../worker/types.ts';

export function ChannelManage(props: { channel: ChannelSummary }) {
  const { channel } = props;
  const [invites, setInvites] = useState<ChannelInviteRow[] | undefined>();
  const [admins, setAdmins] = useState<ChannelAdminRow[] | undefined>();
  const [made, setMade] = useState<{ inviteId: string; link: string } | undefined>();
  const [handle, setHandle] = useState('');
  const [said, setSaid] = useState('');
  const [title, setTitle] = useState(channel.title);
  const [description, setDescription] = useState(channel.description);
  const { error, busy, run } = useAction();
  // Another channel on screen: its own texts (a refresh of this one keeps what is being typed).
  useEffect(() => {
    setTitle(channel.title);
    setDescription(channel.description);
  }, [channel.channelId]);

  const load = () =>
    run(async () => {
      const [i, a] = await Promise.all([
        device.channelInvites(channel.channelId),
        device.channelAdmins(channel.channelId),
      ]);
      setInvites(i);
      setAdmins(a);
    });
  useEffect(() => {
    void load();
  }, [channel.channelId]);

  const admin = (action: 'add' | 'remove' | 'send-key', who = handle) =>
    void run(async () => {
      setSaid('');
      const name = await device.channelAdmin(channel.channelId, who, action);
      setHandle('');
      if (action !== 'send-key') setAdmins(await device.channelAdmins(channel.channelId));
      setSaid(
        action === 'add'
          ? `${name} is an admin of @${channel.name}. The channel's key went to their devices end to end; they can post once it arrives.`
          : action === 'remove'
            ? `${name} is no longer an admin of @${channel.name}. Their devices keep the key, but the server refuses their posts.`
            : `The channel's key went to ${name} again, end to end.`,
      );
    });

  return (
    <section class="channel-manage" aria-labelledby="channel-manage-title">
      <h3 id="channel-manage-title">Manage @{channel.name}</h3>
      <form
        class="channel-info"
        onSubmit={(event) => {
          event.preventDefault();
          void run(async () => {
            setSaid('');
            const saved = await device.editChannelInfo(channel.channelId, title, description);
            setTitle(saved.title);
            setDescription(saved.description);
            setSaid(
              `Saved the title and description of @${channel.name}. Subscribers see them the next time they open it.`,
            );
          });
        }}
      >
        <h4>Title and description</h4>
        <label for="channel-edit-title">Title</label>
        <input
          id="channel-edit-title"
          required
          maxLength={MAX_CHANNEL_TITLE_LENGTH}
          value={title}
          onInput={(e) => setTitle(e.currentTarget.value)}
        />
        <label for="channel-edit-description">Description (optional)</label>
        <textarea
          id="channel-edit-description"
          rows={3}
          maxLength={MAX_CHANNEL_DESCRIPTION_LENGTH}
          value={description}
          onInput={(e) => setDescription(e.currentTarget.value)}
        />
        <button
          type="submit"
          disabled={
            busy || title.trim() === '' || (title === channel.title && description === channel.description)
          }
        >
          Save
        </button>
      </form>
      {channel.visibility === 'public' && (
        <p>
          <label for="public-link">Its public link (anyone can open it and subscribe)</label>
          <input
            id="public-link"
            readOnly
            value={channelLink(location.origin, { name: channel.name })}
            onFocus={(e) => e.currentTarget.select()}
          />
        </p>
      )}
      <h4>Invite links</h4>
      <p>
        {channel.visibility === 'private'
          ? 'People join this private channel only with an invite link.'
          : 'Anyone can subscribe by the name; an invite link also works.'}{' '}
        A link is shown once. Revoking it stops it admitting anyone; people who joined with it stay.
      </p>
      <button
        type="button"
        disabled={busy}
        onClick={() =>
          void run(async () => {
            setMade(await device.createChannelInvite(channel.channelId));
            setInvites(await device.channelInvites(channel.channelId));
          })
        }
      >
        Make an invite link
      </button>
      {made && (
        <p class="invite-made" role="status">
          <label for="invite-link">New invite link (copy it now: it is not shown again)</label>
          <input id="invite-link" readOnly value={made.link} onFocus={(e) => e.currentTarget.select()} />
        </p>
      )}
      {invites && invites.length > 0 && (
        <ul class="invite-list" aria-label="Invite links">
          {invites.map((invite) => (
            <li key={invite.inviteId} data-invite-id={invite.inviteId}>
              <span>
                Link {invite.inviteId.slice(0, 6)} · made {new Date(invite.createdAtMs).toLocaleString()}
                {invite.revokedAtMs !== null && ` · revoked ${new Date(invite.revokedAtMs).toLocaleString()}`}
              </span>
              {invite.revokedAtMs === null && (
                <button
                  type="button"
                  class="secondary"
                  aria-label={`Revoke link ${invite.inviteId.slice(0, 6)}`}
                  onClick={() =>
                    void run(async () => {
                      await device.revokeChannelInvite(channel.channelId, invite.inviteId);
                      if (made?.inviteId === invite.inviteId) setMade(undefined);
                      setInvites(await device.channelInvites(channel.channelId));
                    })
                  }
                >
                  Revoke
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      <h4 id="channel-admin-list-title">Owner and admins</h4>
      {admins && (
        <ul class="admin-list" aria-labelledby="channel-admin-list-title">
          {admins.map((person) => (
            <li key={person.accountId} data-account-id={person.accountId}>
              <span>
                {person.name}
                {person.username && person.name !== `@${person.username}` && (
                  <span class="tag"> @{person.username}</span>
                )}
                <span class="tag">
                  {' '}
                  ·{' '}
                  {person.role === 'owner'
                    ? 'owner'
                    : `admin since ${new Date(person.sinceMs).toLocaleDateString()}`}
                  {person.me ? ' · you' : ''}
                </span>
              </span>
              {channel.myRole === 'owner' && person.role === 'admin' && (
                <button
                  type="button"
                  class="secondary"
                  aria-label={`Remove ${person.name} as admin`}
                  disabled={busy}
                  onClick={() =>
                    void run(async () => {
                      setSaid('');
                      await device.removeChannelAdmin(channel.channelId, person.accountId);
                      setAdmins(await device.channelAdmins(channel.channelId));
                      setSaid(
                        `${person.name} is no longer an admin of @${channel.name}. Their devices keep the key, but the server refuses their posts.`,
                      );
                    })
                  }
                >
                  Remove
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      {channel.myRole === 'owner' && (
        <form
          class="channel-admins"
          onSubmit={(event) => {
            event.preventDefault();
            admin('add');
          }}
        >
          <h4>Name an admin</h4>
          <p>
            An admin gets the channel's secret key, end to end, and can post as the channel. The key cannot be
            taken back: removing an admin stops the server taking their posts.
          </p>
          <label for="channel-admin-handle">Username or phone number</label>
          <input
            id="channel-admin-handle"
            autocomplete="off"
            value={handle}
            onInput={(e) => setHandle(e.currentTarget.value)}
          />
          <div class="row">
            <button type="submit" disabled={busy || handle.trim() === ''}>
              Make admin
            </button>
            <button
              type="button"
              class="secondary"
              disabled={busy || handle.trim() === ''}
              onClick={() => admin('remove')}
            >
              Remove admin
            </button>
            <button
              type="button"
              class="secondary"
              disabled={busy || handle.trim() === ''}
              onClick={() => admin('send-key')}
            >
              Send key again
            </button>
          </div>
          <button type="button" class="secondary" disabled={busy} onClick={() => admin('send-key', '')}>
            Send the key to my other devices
          </button>
        </form>
      )}
      <p class="notice-line" role="status">
        {said}
      </p>
      <Alert text={error} />
    </section>
  );
}
