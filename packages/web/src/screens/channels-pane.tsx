/**
 * The channel screens as the shell shows them in its pane (issue 16): the list, one channel, the
 * preview a link or @name leads to, and the new-channel form; and the state behind them (the list
 * with unread counts, asked again when the worker says it changed, and a version per channel that
 * the channel view reads again on).
 */
import type { ComponentChildren } from 'preact';
import { useCallback, useRef, useState } from 'preact/hooks';
import { device } from '../rpc.ts';
import type { ChannelTarget } from '../ui/channel-link.ts';
import type { ChannelSummary, DeviceEvent } from '../worker/types.ts';
import { ChannelPreviewScreen, NewChannel } from './channel-join.tsx';
import { ChannelList } from './channel-list.tsx';
import { ChannelView } from './channel-view.tsx';

export type ChannelRoute =
  | { kind: 'channels' }
  | { kind: 'channel'; channelId: string }
  | { kind: 'channel-preview'; target: ChannelTarget }
  | { kind: 'channel-new' };

export interface ChannelState {
  channels: ChannelSummary[] | undefined;
  /** Unread posts over all channels. */
  unread: number;
  versions: Record<string, number>;
  listVersion: number;
  refresh: () => void;
  /** Takes the worker's channel events; false for any other event. */
  onEvent: (event: DeviceEvent) => boolean;
  clear: () => void;
}

/** `say` shows a line to the person (a channel key received, or refused and why). */
export function useChannels(say: (what: string) => void): ChannelState {
  const [channels, setChannels] = useState<ChannelSummary[] | undefined>();
  const [versions, setVersions] = useState<Record<string, number>>({});
  const [listVersion, setListVersion] = useState(0);
  const refreshing = useRef<Promise<void> | undefined>(undefined);
  const again = useRef(false);

  const refresh = useCallback(() => {
    // One refresh at a time; a change during one asks for one more after it.
    setListVersion((v) => v + 1);
    if (refreshing.current) {
      again.current = true;
      return;
    }
    refreshing.current = (async () => {
      do {
        again.current = false;
        try {
          setChannels(await device.channels());
        } catch {
          // Signed out meanwhile: the list stays as it was.
        }
      } while (again.current);
      refreshing.current = undefined;
    })();
  }, []);

  const onEvent = useCallback(
    (event: DeviceEvent) => {
      if (event.kind === 'channel')
        setVersions((v) => ({ ...v, [event.channelId]: (v[event.channelId] ?? 0) + 1 }));
      else if (event.kind === 'channels') refresh();
      else if (event.kind === 'channel_key') say(event.text);
      else return false;
      return true;
    },
    [refresh, say],
  );

  const clear = useCallback(() => setChannels(undefined), []);
  const unread = (channels ?? []).reduce((n, c) => n + c.unread, 0);
  return { channels, unread, versions, listVersion, refresh, onEvent, clear };
}

export function ChannelPane(props: {
  route: ChannelRoute;
  state: ChannelState;
  go: (route: ChannelRoute | { kind: 'stickers' }) => void;
  /** Says what an action did (shown above the pane). */
  say: (what: string) => void;
}): ComponentChildren {
  const { route, state, go, say } = props;
  const open = (channelId: string) => {
    say('');
    state.refresh();
    go({ kind: 'channel', channelId });
  };
  if (route.kind === 'channels')
    return (
      <ChannelList
        channels={state.channels}
        onOpen={(channelId) => {
          say('');
          go({ kind: 'channel', channelId });
        }}
        onFind={(target) => go({ kind: 'channel-preview', target })}
        onNew={() => go({ kind: 'channel-new' })}
      />
    );
  if (route.kind === 'channel')
    return (
      <ChannelView
        channelId={route.channelId}
        version={state.versions[route.channelId] ?? 0}
        listVersion={state.listVersion}
        onBack={() => go({ kind: 'channels' })}
        onGone={(what) => {
          say(what);
          go({ kind: 'channels' });
          state.refresh();
        }}
        onStickerPacks={() => go({ kind: 'stickers' })}
      />
    );
  if (route.kind === 'channel-preview')
    return (
      <ChannelPreviewScreen
        target={route.target}
        onSubscribed={open}
        onBack={() => go({ kind: 'channels' })}
      />
    );
  return <NewChannel onCreated={open} onBack={() => go({ kind: 'channels' })} />;
}
