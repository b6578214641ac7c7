/**
 * Joining and making channels (issue 16): the preview a channel link, invite link or @name leads to
 * (title, @name, subscriber count, key fingerprint; nothing joined yet), with its Subscribe or Join
 * button, and the form that makes a new channel. Both say that channel posts are public,
 * not end-to-end encrypted.
 */
import { useEffect, useState } from 'preact/hooks';
import { device } from '../rpc.ts';
import type { ChannelTarget } from '../ui/channel-link.ts';
import { Alert, useAction } from '../ui/errors.tsx';
import type { ChannelPreview } from '../worker/types.ts';
import { PUBLIC_NOTICE } from './channel-list.tsx';

export function ChannelPreviewScreen(props: {
  target: ChannelTarget;
  onSubscribed: (channelId: string) => void;
  onBack: () => void;
}) {
  const [preview, setPreview] = useState<ChannelPreview | undefined>();
  const { error, busy, run } = useAction();
  const key = JSON.stringify(props.target);

  useEffect(() => {
    setPreview(undefined);
    void run(async () => setPreview(await device.previewChannel(props.target)));
    // The target is compared by value (a new object for the same link must not ask again).
  }, [key, run]);

  const subscribe = () =>
    void run(async () => {
      const channel = await device.subscribeChannel(props.target);
      props.onSubscribed(channel.channelId);
    });

  const channel = preview?.channel;
  const byInvite = 'invite' in props.target;
  return (
    <section class="pane-body channel-preview" aria-labelledby="channel-preview-title">
      <button type="button" class="secondary" onClick={props.onBack}>
        Back to channels
      </button>
      <h2 id="channel-preview-title">
        {channel ? channel.title : byInvite ? 'Invitation to a channel' : 'Channel'}
      </h2>
      {channel && byInvite && (
        <p class="invite-note">
          You were invited to this {channel.visibility === 'private' ? 'private ' : ''}channel. Nothing is
          joined until you press Join; admins can revoke the link at any time.
        </p>
      )}
      {channel?.description && <p class="channel-description">{channel.description}</p>}
      {channel && (
        <dl class="channel-facts">
          <dt>Name</dt>
          <dd>@{channel.name}</dd>
          <dt>Kind</dt>
          <dd>{channel.visibility === 'private' ? 'Private channel' : 'Public channel'}</dd>
          <dt>Subscribers</dt>
          <dd class="subscriber-count">{channel.subscriberCount}</dd>
          <dt>Channel key</dt>
          <dd class="fingerprint">{channel.key}</dd>
        </dl>
      )}
      <p class="public-note">
        {PUBLIC_NOTICE} When you {byInvite ? 'join' : 'subscribe'}, this app pins the channel’s key and checks
        every post against it.
      </p>
      {channel && channel.myRole !== null ? (
        <button type="button" onClick={() => props.onSubscribed(channel.channelId)}>
          Open channel
        </button>
      ) : (
        <button
          type="button"
          // An invite that could not be shown (revoked, unknown) admits no one: nothing to press.
          disabled={busy || (preview === undefined && (byInvite || error === ''))}
          onClick={subscribe}
        >
          {byInvite ? 'Join' : 'Subscribe'}
        </button>
      )}
      <Alert text={error} />
    </section>
  );
}

export function NewChannel(props: { onCreated: (channelId: string) => void; onBack: () => void }) {
  const [name, setName] = useState('');
  const [title, setTitle] = useState('');
  const [description, setDescription] = useState('');
  const [visibility, setVisibility] = useState<'public' | 'private'>('public');
  const { error, busy, run } = useAction();
  return (
    <section class="pane-body new-channel" aria-labelledby="new-channel-title">
      <button type="button" class="secondary" onClick={props.onBack}>
        Back to channels
      </button>
      <h2 id="new-channel-title">New channel</h2>
      <p class="public-note">
        {PUBLIC_NOTICE} This device makes the channel’s signing key and keeps it; only its public half goes to
        the server.
      </p>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          void run(async () => {
            const channel = await device.createChannel(name, title, visibility, description);
            props.onCreated(channel.channelId);
          });
        }}
      >
        <label for="channel-name">Name (people find a public channel by it: 5 to 32 of a–z, 0–9 and _)</label>
        <input
          id="channel-name"
          required
          autocomplete="off"
          value={name}
          onInput={(e) => setName(e.currentTarget.value)}
        />
        <label for="channel-title-input">Title</label>
        <input
          id="channel-title-input"
          required
          maxLength={128}
          value={title}
          onInput={(e) => setTitle(e.currentTarget.value)}
        />
        <label for="channel-description-input">Description (optional: what the channel is about)</label>
        <textarea
          id="channel-description-input"
          maxLength={512}
          rows={3}
          value={description}
          onInput={(e) => setDescription(e.currentTarget.value)}
        />
        <fieldset>
          <legend>Who can subscribe</legend>
          <label>
            <input
              type="radio"
              name="visibility"
              checked={visibility === 'public'}
              onChange={() => setVisibility('public')}
            />{' '}
            Public: anyone, by its @name or a link
          </label>
          <label>
            <input
              type="radio"
              name="visibility"
              checked={visibility === 'private'}
              onChange={() => setVisibility('private')}
            />{' '}
            Private: only people with an invite link
          </label>
        </fieldset>
        <button type="submit" disabled={busy}>
          Create channel
        </button>
      </form>
      <Alert text={error} />
    </section>
  );
}
