/**
 * Sign in (and sign up) by phone number and texted code. The code request never says whether the
 * number has an account; only someone holding the right code hears it, when the policy must be
 * accepted before the account is made.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { AppError, device } from '../rpc.ts';
import { Alert, useAction } from '../ui/errors.tsx';
import type { Session } from '../worker/types.ts';

export interface PendingSignIn {
  phone: string;
  verificationId: string;
  code: string;
}

export function SignIn(props: {
  onSignedIn: (session: Session) => void;
  onPolicyNeeded: (pending: PendingSignIn, newAccount: boolean) => void;
}) {
  const [sent, setSent] = useState<{ phone: string; verificationId: string } | undefined>();
  const [phone, setPhone] = useState('');
  const [code, setCode] = useState('');
  const { error, busy, run } = useAction();
  const heading = useRef<HTMLHeadingElement>(null);
  const codeInput = useRef<HTMLInputElement>(null);
  useEffect(() => heading.current?.focus(), []);
  useEffect(() => {
    if (sent) codeInput.current?.focus();
  }, [sent]);

  return (
    <section class="card narrow" aria-labelledby="sign-in-title">
      <h2 id="sign-in-title" tabIndex={-1} ref={heading}>
        Sign in
      </h2>
      <p>
        Enter your phone number in international format. We text you a code. If you have no account yet, one
        is made for you.
      </p>
      {!sent ? (
        <form
          onSubmit={(event) => {
            event.preventDefault();
            void run(async () => {
              const reply = await device.requestCode(phone.trim());
              setSent({ phone: reply.phone, verificationId: reply.verificationId });
            });
          }}
        >
          <label for="phone">Phone number</label>
          <input
            id="phone"
            type="tel"
            autocomplete="tel"
            placeholder="+44 20 7946 0000"
            required
            value={phone}
            onInput={(e) => setPhone(e.currentTarget.value)}
          />
          <button type="submit" disabled={busy}>
            Send code
          </button>
        </form>
      ) : (
        <form
          onSubmit={(event) => {
            event.preventDefault();
            void run(async () => {
              const pending = { ...sent, code: code.trim() };
              try {
                props.onSignedIn(await device.verify(pending.phone, pending.verificationId, pending.code));
              } catch (caught) {
                if (!(caught instanceof AppError) || caught.code !== 'PRIVACY_POLICY_NOT_ACCEPTED')
                  throw caught;
                props.onPolicyNeeded(pending, caught.details?.newAccount === true);
              }
            });
          }}
        >
          <p id="code-sent" role="status">
            We sent a code to {sent.phone}.
          </p>
          <label for="code">Code from the text message</label>
          <input
            id="code"
            ref={codeInput}
            inputMode="numeric"
            autocomplete="one-time-code"
            pattern="[0-9]{4,10}"
            required
            value={code}
            onInput={(e) => setCode(e.currentTarget.value)}
          />
          <button type="submit" disabled={busy}>
            Sign in
          </button>
          <button
            type="button"
            class="secondary"
            onClick={() => {
              setSent(undefined);
              setCode('');
            }}
          >
            Use another number
          </button>
        </form>
      )}
      <Alert text={error} />
    </section>
  );
}
