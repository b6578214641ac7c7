/**
 * The legal desk: log in (password + TOTP), then the screens the person's roles open. Authorities:
 * their own requests and a form to file one. Staff: the queue, a case's detail with the actions
 * their roles allow, the intake form (intake), the public log with an inclusion proof per entry (and
 * the staff audit trail for auditors), the moderation queue (moderators), and for every staff member
 * their own account (a new password, a new authenticator key). The server decides
 * every permission again; the app only leaves out what would be refused.
 */
import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useState } from 'preact/hooks';
import {
  api,
  messageOf,
  type Profile,
  type Session,
  storedSession,
  storeSession,
  whenSessionLost,
} from './api.ts';
import { Account } from './account.tsx';
import { AuditLog } from './audit.tsx';
import { CaseView } from './case-view.tsx';
import { Enrol, enrolmentUri, Login } from './login.tsx';
import { Moderation } from './moderation.tsx';
import { Queue } from './queue.tsx';
import { RequestForm } from './request-form-view.tsx';

type Route =
  | { name: 'requests' }
  | { name: 'case'; caseId: string }
  | { name: 'new' }
  | { name: 'log'; commitment?: string | undefined }
  | { name: 'moderation' }
  | { name: 'account' };

function routeOf(hash: string): Route {
  const [path = '', query = ''] = hash.replace(/^#\/?/, '').split('?');
  const [name, id] = path.split('/');
  if (name === 'requests' && id) return { name: 'case', caseId: decodeURIComponent(id) };
  if (name === 'log') return { name, commitment: new URLSearchParams(query).get('case') ?? undefined };
  if (name === 'new' || name === 'moderation' || name === 'account') return { name };
  return { name: 'requests' };
}

export const go = (path: string) => {
  location.hash = `#/${path}`;
};

/** What a session may open: legal screens, the intake form, the log, moderation. */
export function abilities(session: Session) {
  const staff = session.kind === 'staff';
  const has = (...roles: Session['roles']) => staff && roles.some((r) => session.roles.includes(r));
  return {
    legal: !staff || has('intake', 'reviewer', 'approver', 'auditor'),
    submit: !staff || has('intake'),
    log: has('intake', 'reviewer', 'approver', 'auditor'),
    staffAudit: has('auditor'),
    moderation: has('moderator'),
    /** Staff change their own password and authenticator key. */
    account: staff,
  };
}

export function App() {
  const [session, setSession] = useState<Session | null>(storedSession);
  const [profile, setProfile] = useState<Profile | undefined>();
  const [hash, setHash] = useState(location.hash);
  const [error, setError] = useState('');

  const forget = useCallback(() => {
    storeSession(null);
    setSession(null);
    setProfile(undefined);
  }, []);
  useEffect(() => whenSessionLost(forget), [forget]);
  useEffect(() => {
    const changed = () => setHash(location.hash);
    addEventListener('hashchange', changed);
    return () => removeEventListener('hashchange', changed);
  }, []);
  useEffect(() => {
    if (session) api<Profile>('GET', '/me').then(setProfile, (e) => setError(messageOf(e)));
  }, [session]);

  const enrol = enrolmentUri(hash);
  if (enrol) {
    return (
      <Shell>
        <Enrol
          uri={enrol}
          onDone={() => {
            // The link carries the secret: take it out of the address bar and the history entry.
            history.replaceState(null, '', location.pathname);
            setHash('');
          }}
        />
      </Shell>
    );
  }
  if (!session) {
    return (
      <Shell>
        <Login
          onLogin={(s) => {
            storeSession(s);
            setError('');
            setSession(s);
          }}
        />
      </Shell>
    );
  }

  const can = abilities(session);
  let route = routeOf(hash);
  if (!can.legal && route.name !== 'moderation' && !(route.name === 'account' && can.account))
    route = { name: 'moderation' };
  if (route.name === 'account' && !can.account) route = { name: 'requests' };
  if (route.name === 'moderation' && !can.moderation) route = { name: 'requests' };
  if ((route.name === 'new' && !can.submit) || (route.name === 'log' && !can.log))
    route = { name: 'requests' };
  const current = route.name === 'case' ? 'requests' : route.name;

  const logout = async () => {
    try {
      await api('POST', '/logout');
    } catch (caught) {
      setError(messageOf(caught));
    }
    forget();
  };

  const tabs: [Route['name'], string, boolean][] = [
    ['requests', session.kind === 'authority' ? 'Our requests' : 'Requests', can.legal],
    ['new', 'New request', can.submit],
    ['log', 'Audit log', can.log],
    ['moderation', 'Moderation', can.moderation],
    ['account', 'Your account', can.account],
  ];
  return (
    <Shell
      who={
        <div class="who">
          <span id="who">
            {profile?.displayName ?? session.username} (
            {session.kind === 'staff' ? session.roles.join(', ') : `authority, ${profile?.country ?? ''}`})
          </span>
          <button id="logout" type="button" class="secondary" onClick={logout}>
            Log out
          </button>
        </div>
      }
    >
      <div id="desk-view">
        <nav aria-label="Desk">
          <ul>
            {tabs
              .filter(([, , shown]) => shown)
              .map(([name, label]) => (
                <li key={name}>
                  <a href={`#/${name}`} aria-current={current === name ? 'page' : undefined} data-tab={name}>
                    {label}
                  </a>
                </li>
              ))}
          </ul>
        </nav>
        {error && (
          <p id="app-error" class="alert" role="alert">
            {error}
          </p>
        )}
        {can.legal && route.name !== 'moderation' && route.name !== 'account' && (
          <section id="legal-section">
            {route.name === 'requests' && <Queue session={session} />}
            {route.name === 'case' && <CaseView session={session} caseId={route.caseId} />}
            {route.name === 'new' && profile && <RequestForm session={session} profile={profile} />}
            {route.name === 'log' && <AuditLog staffAudit={can.staffAudit} commitment={route.commitment} />}
          </section>
        )}
        {route.name === 'moderation' && <Moderation />}
        {route.name === 'account' && <Account />}
      </div>
    </Shell>
  );
}

function Shell(props: { who?: ComponentChildren; children: ComponentChildren }) {
  return (
    <>
      <header class="top">
        <h1>Courier legal desk</h1>
        {props.who}
      </header>
      <main>{props.children}</main>
    </>
  );
}
