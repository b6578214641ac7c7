/**
 * The first-run screen: what Courier can and cannot disclose, in plain words, then the privacy
 * policy as a document, accepted with one checkbox. Also shown when the policy changed since the
 * person last accepted it.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { device } from '../rpc.ts';
import { Alert, useAction } from '../ui/errors.tsx';
import type { PrivacyPolicyView } from '@courier/protocol';

export function Policy(props: { reason: 'new' | 'changed'; onAccept: (version: string) => Promise<void> }) {
  const [policy, setPolicy] = useState<(PrivacyPolicyView & { html: string }) | undefined>();
  const [accepted, setAccepted] = useState(false);
  const { error, busy, run } = useAction();
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    void run(async () => {
      // The Markdown renderer and sanitiser load with the policy, not with the app's first page.
      const [view, { policyHtml }] = await Promise.all([device.policy(), import('../ui/policy-html.ts')]);
      setPolicy({ ...view, html: policyHtml(view.markdown) });
    });
    heading.current?.focus();
  }, [run]);

  return (
    <section class="card" aria-labelledby="policy-title">
      <h2 id="policy-title" tabIndex={-1} ref={heading}>
        Our privacy policy
      </h2>
      <p id="policy-intro">
        {props.reason === 'new'
          ? 'Before we create your account, please read and accept our privacy policy.'
          : 'Our privacy policy has changed since you last accepted it. Please read and accept the new version to continue.'}
      </p>
      <section class="disclose" aria-labelledby="disclose-title">
        <h3 id="disclose-title">What Courier can and cannot disclose</h3>
        <ul>
          <li>
            <strong>Never your messages or keys.</strong> Your messages are end-to-end encrypted on your
            devices. The server holds no readable message and no private key, so there is nothing of that kind
            to hand over.
          </li>
          <li>
            <strong>At most your phone number and IP addresses</strong>, and only when a court order confirms
            that you are a suspect in a terrorism case. Two staff members must approve each disclosure.
          </li>
          <li>
            <strong>Every request is counted</strong> in a public transparency report, twice a year. Requests
            from countries where Courier is banned are not considered at all.
          </li>
          <li>
            You can export everything the server holds about you and delete your account at any time, in
            Settings.
          </li>
        </ul>
      </section>
      {policy && (
        <>
          {/* The operator's policy text, rendered from Markdown and sanitised (never message text). */}
          <article
            id="policy-text"
            class="policy"
            aria-label="Privacy policy"
            dangerouslySetInnerHTML={{ __html: policy.html }}
          />
          <p>
            <a href="/privacy" target="_blank" rel="noopener">
              Open the policy on its own page
            </a>
          </p>
          <form
            onSubmit={(event) => {
              event.preventDefault();
              void run(() => props.onAccept(policy.version));
            }}
          >
            <label class="check">
              <input
                type="checkbox"
                name="accept"
                required
                checked={accepted}
                onChange={(e) => setAccepted(e.currentTarget.checked)}
              />{' '}
              I have read and accept privacy-policy version {policy.version}
            </label>
            <button type="submit" disabled={busy}>
              Accept and continue
            </button>
          </form>
        </>
      )}
      <Alert text={error} />
    </section>
  );
}
