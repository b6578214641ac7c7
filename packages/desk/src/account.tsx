/**
 * A staff member's own account: a new authenticator key (current password and code → a new key shown
 * as a QR code → a code from it confirms it; until then the old key keeps working) and a new password
 * (current password and code; every other session of the account ends).
 */
import { useState } from 'preact/hooks';
import { api } from './api.ts';
import { qrPath } from './qr.ts';
import { ErrorLine, useAction } from './ui.tsx';

/** A six-digit one-time code field with its label. */
function CodeField(props: { id: string; label: string; describedBy?: string }) {
  return (
    <label>
      {props.label}
      <input
        id={props.id}
        name="code"
        inputMode="numeric"
        pattern="[0-9]{6}"
        maxLength={6}
        autocomplete="one-time-code"
        required
        {...(props.describedBy ? { 'aria-describedby': props.describedBy } : {})}
      />
    </label>
  );
}

const valuesOf = (event: SubmitEvent) => {
  event.preventDefault();
  const form = event.currentTarget as HTMLFormElement;
  const data = new FormData(form);
  return { form, get: (name: string) => String(data.get(name) ?? '') };
};

export function Account() {
  const { error, busy, run, setError } = useAction();
  const [notice, setNotice] = useState('');
  /** The new key waiting for a code from it. */
  const [pending, setPending] = useState<{ otpauthUri: string; totpSecret: string } | undefined>();

  const startTotp = (event: SubmitEvent) => {
    const { form, get } = valuesOf(event);
    setNotice('');
    void run(async () => {
      const reply = await api<{ otpauthUri: string; totpSecret: string }>('POST', '/account/totp', {
        password: get('password'),
        code: get('code'),
      });
      form.reset();
      setPending(reply);
    });
  };
  const confirmTotp = (event: SubmitEvent) => {
    const { form, get } = valuesOf(event);
    setNotice('');
    void run(async () => {
      await api('POST', '/account/totp/confirm', { code: get('code') });
      form.reset();
      setPending(undefined);
      setNotice('Your authenticator key is changed: from now on only the codes of the new key log you in.');
    });
  };
  const keepOldKey = () => {
    setNotice('');
    void run(async () => {
      await api('DELETE', '/account/totp');
      setPending(undefined);
      setNotice('The new key is dropped: your authenticator key stays as it was.');
    });
  };
  const changePassword = (event: SubmitEvent) => {
    const { form, get } = valuesOf(event);
    setNotice('');
    if (get('newPassword') !== get('repeatPassword')) {
      setError('The new password and its repetition differ.');
      return;
    }
    void run(async () => {
      const { endedSessions } = await api<{ endedSessions: number }>('POST', '/account/password', {
        currentPassword: get('currentPassword'),
        code: get('code'),
        newPassword: get('newPassword'),
      });
      form.reset();
      setNotice(
        `Your password is changed.${endedSessions > 0 ? ` ${endedSessions} other session(s) of yours ended.` : ''}`,
      );
    });
  };

  const qr = pending && qrPath(pending.otpauthUri);
  return (
    <section id="account-view" aria-labelledby="account-title">
      <h2 id="account-title">Your account</h2>
      <ErrorLine text={error} />
      {notice && (
        <p id="notice" class="notice" role="status">
          {notice}
        </p>
      )}
      <div class="columns">
        <section class="card" aria-labelledby="totp-title">
          <h3 id="totp-title">Authenticator key</h3>
          {!pending || !qr ? (
            <form id="totp-form" onSubmit={startTotp}>
              <p class="help" id="totp-help">
                A new key for your authenticator app. Your current key keeps working until you confirm the new
                one with a code from it.
              </p>
              <label>
                Password <input name="password" type="password" autocomplete="current-password" required />
              </label>
              <CodeField id="totp-current-code" label="Current one-time code" describedBy="totp-help" />
              <button type="submit" disabled={busy}>
                Make a new key
              </button>
            </form>
          ) : (
            <form id="totp-confirm-form" onSubmit={confirmTotp}>
              <p>
                Scan this code with your authenticator app; it adds a new entry for “Courier desk”. Your old
                entry keeps working until you confirm.
              </p>
              <svg
                id="account-totp-qr"
                class="qr"
                viewBox={`-4 -4 ${qr.size + 8} ${qr.size + 8}`}
                role="img"
                aria-label="QR code of your new authenticator key"
                shape-rendering="crispEdges"
              >
                <rect x="-4" y="-4" width={qr.size + 8} height={qr.size + 8} fill="#fff" />
                <path d={qr.d} fill="#000" />
              </svg>
              <p>
                Cannot scan? Type this key into the app instead:{' '}
                <code id="account-totp-secret" class="secret">
                  {pending.totpSecret.match(/.{1,4}/g)?.join(' ')}
                </code>
              </p>
              <CodeField id="totp-new-code" label="A code from the new key" />
              <div class="actions">
                <button type="submit" disabled={busy}>
                  Confirm the new key
                </button>
                <button type="button" class="secondary" disabled={busy} onClick={keepOldKey}>
                  Keep the old key
                </button>
              </div>
            </form>
          )}
        </section>
        <section class="card" aria-labelledby="password-title">
          <h3 id="password-title">Password</h3>
          <form id="password-form" onSubmit={changePassword}>
            <p class="help" id="password-help">
              At least 12 characters. Your other sessions end; this one stays.
            </p>
            <label>
              Current password{' '}
              <input name="currentPassword" type="password" autocomplete="current-password" required />
            </label>
            <CodeField id="password-code" label="Current one-time code" />
            <label>
              New password{' '}
              <input
                name="newPassword"
                type="password"
                autocomplete="new-password"
                minLength={12}
                maxLength={256}
                required
                aria-describedby="password-help"
              />
            </label>
            <label>
              New password again{' '}
              <input
                name="repeatPassword"
                type="password"
                autocomplete="new-password"
                minLength={12}
                maxLength={256}
                required
              />
            </label>
            <button type="submit" disabled={busy}>
              Change the password
            </button>
          </form>
        </section>
      </div>
    </section>
  );
}
