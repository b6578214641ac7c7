/**
 * The messenger: sign-in and first run, then the chat list beside the open chat (one at a time on a
 * narrow screen), chat info, new chats and groups, and Settings. All data comes from the device in
 * the Web Worker; the worker says when something changed and the screens ask again.
 */
import { type AccountView, endsSession } from '@courier/protocol';
import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { AppError, device, subscribe } from './rpc.ts';
import { type ChannelRoute, ChannelPane, useChannels } from './screens/channels-pane.tsx';
import { ChatInfo } from './screens/chat-info.tsx';
import { ChatList } from './screens/chat-list.tsx';
import { ChatView } from './screens/chat-view.tsx';
import { NewChat, NewGroup } from './screens/new-chat.tsx';
import { Policy } from './screens/policy.tsx';
import { Invitation, Requests } from './screens/requests.tsx';
import { SafetyNumber } from './screens/safety-number.tsx';
import { StickerPacks } from './screens/sticker-packs.tsx';
import { ProfileForm, Settings } from './screens/settings.tsx';
import { type PendingSignIn, SignIn } from './screens/sign-in.tsx';
import { loadAccount, loadSession, saveAccount, saveSession } from './session.ts';
import { isChannelFragment, parseChannelTarget } from './ui/channel-link.ts';
import { Alert, messageOf } from './ui/errors.tsx';
import type { ChatSummary, DeviceEvent, RequestRow, Session } from './worker/types.ts';

type Phase =
  | { kind: 'loading' }
  | { kind: 'sign-in' }
  | { kind: 'policy'; reason: 'new' | 'changed'; pending?: PendingSignIn }
  | { kind: 'profile' }
  | { kind: 'main' }
  | { kind: 'deleted'; legalHold: boolean };

type View =
  | { kind: 'none' }
  | { kind: 'chat'; groupId: string }
  | { kind: 'info'; groupId: string }
  | { kind: 'safety'; accountId: string }
  | { kind: 'new-chat' }
  | { kind: 'new-group' }
  | { kind: 'settings' }
  | { kind: 'requests' }
  | { kind: 'request'; groupId: string }
  | { kind: 'stickers'; link?: string }
  | ChannelRoute;

export function App() {
  const [phase, setPhase] = useState<Phase>({ kind: 'loading' });
  const [me, setMe] = useState<AccountView | undefined>();
  const [view, setView] = useState<View>({ kind: 'none' });
  const [chats, setChats] = useState<ChatSummary[]>([]);
  const [requests, setRequests] = useState<RequestRow[]>([]);
  /** What the last action did (a request deleted, a person blocked), said politely. */
  const [notice, setNotice] = useState('');
  const [versions, setVersions] = useState<Record<string, number>>({});
  const channels = useChannels(setNotice);
  const refreshChannels = channels.refresh;
  const channelEvent = channels.onEvent;
  const clearChannels = channels.clear;
  const [online, setOnline] = useState(false);
  /** Courier was opened in another tab, which now holds this device's connection. */
  const [replaced, setReplaced] = useState(false);
  const [error, setError] = useState('');
  const refreshing = useRef<Promise<void> | undefined>(undefined);
  const again = useRef(false);

  const refreshChats = useCallback(() => {
    // One refresh at a time; a change during one asks for one more after it.
    if (refreshing.current) {
      again.current = true;
      return;
    }
    refreshing.current = (async () => {
      do {
        again.current = false;
        try {
          const [list, waiting] = await Promise.all([device.chats(), device.requests()]);
          setChats(list);
          setRequests(waiting);
        } catch {
          // Signed out meanwhile: nothing to show.
        }
      } while (again.current);
      refreshing.current = undefined;
    })();
  }, []);

  const enter = useCallback(
    async (session: Session) => {
      saveSession(session);
      const started = device.start(session);
      // The chat list from the device's stores as soon as they are open (not after connecting).
      refreshChats();
      await started;
      let account: AccountView;
      try {
        account = await device.me();
        saveAccount(account);
      } catch (caught) {
        // Offline (a reload without network): the account as last seen; the device reconnects later.
        const kept = loadAccount(session.accountId);
        if (!(caught instanceof AppError) || caught.code !== 'SERVER_UNAVAILABLE' || !kept) throw caught;
        account = kept;
      }
      setMe(account);
      setOnline((await device.connectionState()) === 'ready');
      refreshChats();
      refreshChannels();
      return account;
    },
    [refreshChats, refreshChannels],
  );

  /** Asks the server again for requests (invitations come with no push), then refreshes the lists. */
  const refreshRequests = useCallback(() => {
    void device
      .requests(true)
      .then(setRequests)
      .catch(() => {})
      .finally(refreshChats);
  }, [refreshChats]);

  const signedOut = useCallback(() => {
    saveSession(undefined);
    setMe(undefined);
    setChats([]);
    setRequests([]);
    clearChannels();
    setView({ kind: 'none' });
    // Deleting the account also ends its session: the worker's news of that may come after the
    // reply that showed "your account is deleted" (they travel on different ports), and must not
    // replace it.
    setPhase((phase) => (phase.kind === 'deleted' ? phase : { kind: 'sign-in' }));
  }, [clearChannels]);

  useEffect(() => {
    subscribe((event: DeviceEvent) => {
      if (channelEvent(event)) return;
      if (event.kind === 'connection') {
        setOnline(event.state === 'ready');
        setReplaced(event.state === 'replaced');
      } else if (event.kind === 'signed_out') signedOut();
      else if (event.kind === 'problem') setError(event.message);
      else if (event.kind === 'messages') {
        setVersions((v) => ({ ...v, [event.groupId]: (v[event.groupId] ?? 0) + 1 }));
        refreshChats();
      } else refreshChats();
    });
    const offline = () => void device.network(false);
    const online = () => void device.network(true);
    window.addEventListener('offline', offline);
    window.addEventListener('online', online);
    const session = loadSession();
    if (!session) {
      setPhase({ kind: 'sign-in' });
      return;
    }
    void (async () => {
      // The account as last seen shows the chats at once; the server's answer follows.
      const kept = loadAccount(session.accountId);
      if (kept?.policy.accepted) {
        setMe(kept);
        setPhase({ kind: 'main' });
      }
      try {
        const account = await enter(session);
        setPhase(account.policy.accepted ? { kind: 'main' } : { kind: 'policy', reason: 'changed' });
      } catch (caught) {
        setError(messageOf(caught));
        if (caught instanceof AppError && endsSession(caught)) signedOut();
        else setPhase({ kind: 'sign-in' });
      }
    })();
  }, [enter, refreshChats, channelEvent, signedOut]);

  // A sticker pack's link (/addstickers/<name>) opens the packs screen with that pack.
  useEffect(() => {
    if (phase.kind !== 'main' || !location.pathname.startsWith('/addstickers/')) return;
    setView({ kind: 'stickers', link: location.pathname });
    history.replaceState(null, '', '/');
  }, [phase.kind]);

  // A channel link (/#channel=<name> or /#channel-invite=<token>, see ui/channel-link.ts) opens its
  // preview, on load or when a link is opened in a tab that shows the app already.
  useEffect(() => {
    if (phase.kind !== 'main') return;
    const follow = () => {
      if (!isChannelFragment(location.hash)) return;
      const target = parseChannelTarget(location.hash);
      history.replaceState(null, '', '/');
      if (target) setView({ kind: 'channel-preview', target });
      else setError('This channel link is damaged: ask for a new one.');
    };
    follow();
    window.addEventListener('hashchange', follow);
    return () => window.removeEventListener('hashchange', follow);
  }, [phase.kind]);

  // Online again: the channel list (unread counts) is asked for again.
  useEffect(() => {
    if (phase.kind === 'main' && online) refreshChannels();
  }, [phase.kind, online, refreshChannels]);

  // Invitations to groups come with no push: asked again on (re)connecting and once a minute.
  useEffect(() => {
    if (phase.kind !== 'main' || !online) return;
    refreshRequests();
    const timer = setInterval(refreshRequests, 60_000);
    return () => clearInterval(timer);
  }, [phase.kind, online, refreshRequests]);

  if (phase.kind === 'loading') return <p class="loading">Opening Courier…</p>;

  const header = (
    <header class="top">
      <h1>Courier</h1>
      {phase.kind === 'main' && (
        <>
          <span class={`status ${online ? 'conn-online' : 'conn-offline'}`} role="status">
            {online ? 'Connected' : replaced ? 'Open in another tab' : 'Connecting…'}
          </span>
          {replaced && (
            <button
              type="button"
              class="secondary"
              onClick={() => {
                const session = loadSession();
                if (session)
                  void device
                    .start(session, { takeOver: true })
                    .then(refreshChats)
                    .catch((caught: unknown) => setError(messageOf(caught)));
              }}
            >
              Use Courier in this tab
            </button>
          )}
          <button type="button" class="secondary" onClick={() => setView({ kind: 'stickers' })}>
            Stickers
          </button>
          <button type="button" class="secondary" onClick={() => setView({ kind: 'settings' })}>
            Settings
          </button>
          <button
            type="button"
            class="secondary"
            onClick={() => {
              void device.logout().finally(signedOut);
            }}
          >
            Sign out
          </button>
        </>
      )}
    </header>
  );

  let body: ComponentChildren;
  if (phase.kind === 'sign-in')
    body = (
      <SignIn
        onSignedIn={(session) =>
          void enter(session)
            .then((account) =>
              setPhase(account.policy.accepted ? { kind: 'main' } : { kind: 'policy', reason: 'changed' }),
            )
            .catch((caught: unknown) => setError(messageOf(caught)))
        }
        onPolicyNeeded={(pending, newAccount) =>
          setPhase({ kind: 'policy', reason: newAccount ? 'new' : 'changed', pending })
        }
      />
    );
  else if (phase.kind === 'policy')
    body = (
      <Policy
        reason={phase.reason}
        onAccept={async (version) => {
          if (phase.pending) {
            const { phone, verificationId, code } = phase.pending;
            await enter(await device.verify(phone, verificationId, code, version));
            setPhase(phase.reason === 'new' ? { kind: 'profile' } : { kind: 'main' });
          } else {
            await device.acceptPolicy(version);
            setMe(await device.me());
            setPhase({ kind: 'main' });
          }
        }}
      />
    );
  else if (phase.kind === 'profile' && me)
    body = (
      <section class="card narrow" aria-labelledby="profile-first-title">
        <h2 id="profile-first-title">Your profile</h2>
        <p>
          Choose the name people see, and a username if you want people to find you without your phone number.
          You can change both later in Settings.
        </p>
        <ProfileForm
          me={me}
          submitLabel="Continue"
          onSaved={(account) => {
            setMe(account);
            setPhase({ kind: 'main' });
          }}
        />
        <button type="button" class="secondary" onClick={() => setPhase({ kind: 'main' })}>
          Skip for now
        </button>
      </section>
    );
  else if (phase.kind === 'deleted')
    body = (
      <section class="card narrow" aria-labelledby="deleted-title">
        <h2 id="deleted-title">Your account is deleted</h2>
        <p id="deleted-text">
          {phase.legalHold
            ? 'Everything personal is deleted. A legal obligation requires us to keep your phone number and some connection records until it ends; then they are deleted too.'
            : 'Everything personal the server held about you is deleted.'}
        </p>
        <button type="button" onClick={() => setPhase({ kind: 'sign-in' })}>
          Back to sign-in
        </button>
      </section>
    );
  else if (phase.kind === 'main' && me) {
    const selected =
      view.kind === 'chat' || view.kind === 'info' || view.kind === 'request' ? view.groupId : undefined;
    const chat = selected ? chats.find((c) => c.groupId === selected) : undefined;
    const open = (groupId: string) => {
      setNotice('');
      setView({ kind: 'chat', groupId });
      refreshChats();
    };
    const gone = (back: View) => (what: string) => {
      setNotice(what);
      setView(back);
      refreshRequests();
    };
    const chatView = (c: ChatSummary) => (
      <ChatView
        chat={c}
        version={versions[c.groupId] ?? 0}
        keysChanged={c.keysChanged}
        verified={c.verified}
        online={online}
        onInfo={() => setView({ kind: 'info', groupId: c.groupId })}
        onBack={() => setView(c.request ? { kind: 'requests' } : { kind: 'none' })}
        onSafety={(accountId) => setView({ kind: 'safety', accountId })}
        onGone={gone(c.request ? { kind: 'requests' } : { kind: 'none' })}
        onAccepted={() => {
          setNotice(`You accepted ${c.title}'s request: the chat is with your chats now.`);
          open(c.groupId);
        }}
        onStickerPacks={() => setView({ kind: 'stickers' })}
      />
    );
    const invitation =
      view.kind === 'request'
        ? requests.find((r) => r.groupId === view.groupId && r.type === 'invitation')
        : undefined;
    let pane: ComponentChildren;
    if ((view.kind === 'chat' || view.kind === 'request') && chat) pane = chatView(chat);
    else if (view.kind === 'request' && invitation)
      pane = (
        <Invitation
          request={invitation}
          onBack={() => setView({ kind: 'requests' })}
          onAccepted={() => {
            setNotice(
              `You joined “${invitation.title}”. Its messages arrive once a group admin's device adds yours.`,
            );
            setView({ kind: 'none' });
            refreshRequests();
          }}
          onGone={gone({ kind: 'requests' })}
        />
      );
    else if (view.kind === 'requests')
      pane = (
        <Requests
          requests={requests}
          onOpen={(groupId) => {
            setNotice('');
            setView({ kind: 'request', groupId });
          }}
          onRefresh={refreshRequests}
        />
      );
    else if (view.kind === 'info')
      pane = (
        <ChatInfo
          groupId={view.groupId}
          version={versions[view.groupId] ?? 0}
          onBack={() => setView({ kind: 'chat', groupId: view.groupId })}
          onLeft={(what) => {
            setNotice(what);
            setView({ kind: 'none' });
            refreshChats();
          }}
        />
      );
    else if (view.kind === 'safety')
      pane = (
        <section class="pane-body">
          <button type="button" class="secondary" onClick={() => setView({ kind: 'none' })}>
            Back to chats
          </button>
          <SafetyNumber accountId={view.accountId} />
        </section>
      );
    else if (view.kind === 'stickers')
      pane = <StickerPacks link={view.link} onBack={() => setView({ kind: 'none' })} />;
    else if (
      view.kind === 'channels' ||
      view.kind === 'channel' ||
      view.kind === 'channel-preview' ||
      view.kind === 'channel-new'
    )
      pane = <ChannelPane route={view} state={channels} go={setView} say={setNotice} />;
    else if (view.kind === 'new-chat') pane = <NewChat onOpened={open} />;
    else if (view.kind === 'new-group') pane = <NewGroup onOpened={open} />;
    else if (view.kind === 'settings')
      pane = (
        <Settings
          me={me}
          onProfile={(account) => {
            saveAccount(account);
            setMe(account);
          }}
          onDeleted={(legalHold) => {
            saveSession(undefined);
            setMe(undefined);
            setChats([]);
            setView({ kind: 'none' });
            setPhase({ kind: 'deleted', legalHold });
          }}
        />
      );
    else
      pane = (
        <section class="pane-body placeholder">
          <p>Pick a chat, or start one.</p>
        </section>
      );
    body = (
      <div class={`shell${view.kind === 'none' ? '' : ' has-pane'}`}>
        <ChatList
          chats={chats.filter((c) => !c.request)}
          selected={selected}
          onOpen={open}
          onNewChat={() => setView({ kind: 'new-chat' })}
          onNewGroup={() => setView({ kind: 'new-group' })}
          requestCount={requests.length}
          requestsOpen={view.kind === 'requests' || view.kind === 'request'}
          onRequests={() => {
            setNotice('');
            setView({ kind: 'requests' });
          }}
          channelUnread={channels.unread}
          channelsOpen={view.kind.startsWith('channel')}
          onChannels={() => {
            setNotice('');
            setView({ kind: 'channels' });
            refreshChannels();
          }}
        />
        <div class="pane">
          {(view.kind === 'settings' ||
            view.kind === 'new-chat' ||
            view.kind === 'new-group' ||
            view.kind === 'requests' ||
            view.kind === 'channels') && (
            // On a narrow screen the list is hidden while a pane is open: this is the way back.
            <button type="button" class="back-to-list secondary" onClick={() => setView({ kind: 'none' })}>
              Back to chats
            </button>
          )}
          <p class="notice-line" role="status">
            {notice}
          </p>
          {pane}
        </div>
      </div>
    );
  }

  return (
    <>
      {header}
      <main>
        {body}
        <Alert text={error} />
      </main>
      {phase.kind !== 'main' && (
        <footer>
          <a href="/privacy">Privacy policy</a> · <a href="/transparency">Transparency reports</a>
        </footer>
      )}
    </>
  );
}
