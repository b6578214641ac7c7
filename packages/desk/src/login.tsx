/** Logging in (password and a one-time code) and enrolling an authenticator from an enrolment link. */
import { useState } from 'preact/hooks';
import { api, messageOf, type Session } from './api.ts';
import { qrPath } from './qr.ts';

export function Login(props: { onLogin: (session: Session) => void }) {
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const submit = async (event: SubmitEvent) => {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    const data = new FormData(form);
    const username = String(data.get('username') ?? '');
    setBusy(true);
    setError('');
    try {
      const reply = await api<Omit<Session, 'username'>>('POST', '/login', {
        username,
        password: String(data.get('password') ?? ''),
        code: String(data.get('code') ?? ''),
      });
      form.reset();
      props.onLogin({ ...reply, username });
    } catch (caught) {
      setError(messageOf(caught));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section id="login-view" class="card narrow" aria-labelledby="login-title">
      <h2 id="login-title">Log in</h2>
      <form id="login-form" onSubmit={submit}>
        <label>
          Username <input name="username" autocomplete="username" required maxLength={64} />
        </label>
        <label>
          Password <input name="password" type="password" autocomplete="current-password" required />
        </label>
        <label>
          One-time code
          <input
            name="code"
            inputMode="numeric"
            pattern="[0-9]{6}"
            maxLength={6}
            autocomplete="one-time-code"
            required
            aria-describedby="code-help"
          />
        </label>
        <p id="code-help" class="help">
          The six digits your authenticator app shows for “Courier desk”.
        </p>
        <button type="submit" disabled={busy}>
          Log in
        </button>
      </form>
      {error && (
        <p id="error" class="alert" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}

/** The otpauth:// URI in an enrolment link (`/desk/#enrol=…`), or undefined. The fragment never reaches the server. */
export function enrolmentUri(hash: string): string | undefined {
  if (!hash.startsWith('#enrol=')) return undefined;
  try {
    const uri = decodeURIComponent(hash.slice('#enrol='.length));
    const parsed = new URL(uri);
    return parsed.protocol === 'otpauth:' && parsed.searchParams.get('secret') ? uri : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Enrolment: the operator's `courier-server desk add-staff|add-authority` prints a link with the
 * account's otpauth:// URI in the fragment; this screen draws it as a QR code to scan with an
 * authenticator app (and shows the key for typing in), then forgets it and offers the login.
 */
export function Enrol(props: { uri: string; onDone: () => void }) {
  const url = new URL(props.uri);
  const secret = url.searchParams.get('secret') ?? '';
  const label = decodeURIComponent(url.pathname.replace(/^\/\/totp\//, '').replace(/^\//, ''));
  const { size, d } = qrPath(props.uri);
  return (
    <section id="enrol-view" class="card narrow" aria-labelledby="enrol-title">
      <h2 id="enrol-title">Set up your authenticator</h2>
      <p>
        Scan this code with an authenticator app (for example FreeOTP, Aegis or Google Authenticator). It adds{' '}
        <strong>{label}</strong>, which shows a new six-digit code every 30 seconds: you type it in each time
        you log in.
      </p>
      <svg
        id="enrol-qr"
        class="qr"
        viewBox={`-4 -4 ${size + 8} ${size + 8}`}
        role="img"
        aria-label={`QR code to add ${label} to an authenticator app`}
        shape-rendering="crispEdges"
      >
        <rect x="-4" y="-4" width={size + 8} height={size + 8} fill="#fff" />
        <path d={d} fill="#000" />
      </svg>
      <p>
        Cannot scan? Type this key into the app instead:{' '}
        <code id="enrol-secret" class="secret">
          {secret.match(/.{1,4}/g)?.join(' ')}
        </code>
      </p>
      <p>Keep this link to yourself, and close it once your app shows the codes.</p>
      <button type="button" onClick={props.onDone}>
        Done: go to the login
      </button>
    </section>
  );
}
