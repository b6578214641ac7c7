/**
 * Running a channel (issue 16): invite links (made, shown once, revoked) for its owner and admins,
 * and naming admins for its owner. An admin's sessions may post at once; to sign posts their device
 * also needs the channel's key, which the owner's device holds.
 */
import { useEffect, useState } from 'preact/hooks';
import { device } from '../rpc.ts';
import { channelLink } from '../ui/channel-link.ts';
import { Alert, useAction } from '../ui/errors.tsx';
import type { ChannelInviteRow, ChannelSummary } from '../worker/types.ts';

export function ChannelManage(props: { channel: ChannelSummary }) {
  const { channel } = props;
  const [invites, setInvites] = useState<ChannelInviteRow[] | undefined>();
  const [made, setMade] = useState<{ inviteId: string; link: string } | undefined>();
  const [handle, setHandle] = useState('');
  const [said, setSaid] = useState('');
  const { error, busy, run } = useAction();

  const load = () =>
    run(async () => {
      setInvites(await device.channelInvites(channel.channelId));
    });
  useEffect(() => {
    void load();
  }, [channel.channelId]);

  const admin = (on: boolean) =>
    void run(async () => {
      const name = await device.setChannelAdmin(channel.channelId, handle, on);
      setHandle('');
      setSaid(
        on
          ? `${name} is an admin of @${channel.name}: their devices may post once they hold the channel's key.`
          : `${name} is no longer an admin of @${channel.name}.`,
      );
    });

  return (
    <section class="channel-manage" aria-labelledby="channel-manage-title">
      <h3 id="channel-manage-title">Manage @{channel.name}</h3>
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
      {channel.myRole === 'owner' && (
        <form
          class="channel-admins"
          onSubmit={(event) => {
            event.preventDefault();
            admin(true);
          }}
        >
          <h4>Admins</h4>
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
              onClick={() => admin(false)}
            >
              Remove admin
            </button>
          </div>
        </form>
      )}
      <p class="notice-line" role="status">
        {said}
      </p>
      <Alert text={error} />
    </section>
  );
}
