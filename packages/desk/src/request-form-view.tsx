/**
 * A new request as a form (docs/legal-requests.md): every field typed, checked by the desk's own
 * parser before it is sent, each problem beside its field; the court document attached as a file.
 * An authority files in its own name (its account's name, kind and country, fixed here).
 */
import { useEffect, useState } from 'preact/hooks';
import { api, type Profile, type Session } from './api.ts';
import {
  AUTHORITY_KINDS,
  COMMON_CATEGORIES,
  emptyForm,
  INSTRUMENT_TYPES,
  type RequestFormState,
  TARGET_KINDS,
  type TargetKind,
  validateForm,
} from './request-form.ts';
import { StatusBadge, useAction } from './ui.tsx';

const TARGET_LABELS: Record<TargetKind, string> = {
  phone: 'phone number',
  username: 'username',
  userId: 'user id',
};
const MAX_DOCUMENT = 8 * 1024 * 1024;

async function base64Of(file: File): Promise<string> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000)
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

export function RequestForm(props: { session: Session; profile: Profile }) {
  const authority = props.session.kind === 'authority';
  const initial = (): RequestFormState => ({
    ...emptyForm(new Date().toISOString().slice(0, 10)),
    ...(authority
      ? {
          authorityName: props.profile.displayName,
          authorityKind: props.profile.authorityKind ?? 'court',
          country: props.profile.country ?? '',
        }
      : {}),
  });
  const [form, setForm] = useState<RequestFormState>(initial);
  const [file, setFile] = useState<File | undefined>();
  const [issues, setIssues] = useState<Record<string, string>>({});
  const [result, setResult] = useState<{ caseId: string; status: string } | undefined>();
  const { error, busy, run } = useAction();

  const set = <K extends keyof RequestFormState>(key: K, value: RequestFormState[K]) =>
    setForm((f) => ({ ...f, [key]: value }));
  const text = (key: keyof RequestFormState) => ({
    id: key,
    name: key,
    value: form[key] as string,
    onInput: (e: Event) => set(key, (e.currentTarget as HTMLInputElement).value as never),
    'aria-invalid': issues[key] ? true : undefined,
    'aria-describedby': issues[key] ? `${key}-issue` : undefined,
  });
  const issue = (key: string) =>
    issues[key] ? (
      <span class="field-issue" id={`${key}-issue`}>
        {issues[key]}
      </span>
    ) : null;

  /** The form checked as typed: the request the desk would accept, and every problem by field. */
  const check = (state: RequestFormState, attached: File | undefined) => {
    const checked = validateForm(state);
    const fileIssue =
      attached === undefined
        ? 'attach the court document'
        : attached.size === 0
          ? 'the file is empty'
          : attached.size > MAX_DOCUMENT
            ? 'at most 8 MB'
            : undefined;
    return {
      checked,
      all: { ...(checked.ok ? {} : checked.issues), ...(fileIssue ? { document: fileIssue } : {}) },
    };
  };
  // Once a submission was tried, problems are checked again as they are fixed.
  const [tried, setTried] = useState(false);
  useEffect(() => {
    if (tried) setIssues(check(form, file).all);
  }, [tried, form, file]);

  const submit = (event: SubmitEvent) => {
    event.preventDefault();
    setResult(undefined);
    setTried(true);
    const { checked, all } = check(form, file);
    setIssues(all);
    if (!checked.ok || Object.keys(all).length > 0 || !file) {
      const first = Object.keys(all)[0];
      if (first) document.getElementById(first)?.focus();
      return;
    }
    void run(async () => {
      const reply = await api<{ caseId: string; status: string }>('POST', '/requests', {
        request: checked.request,
        documentBase64: await base64Of(file),
      });
      setResult(reply);
      setTried(false);
      setIssues({});
      setForm(initial());
      setFile(undefined);
      (event.target as HTMLFormElement).reset();
    });
  };

  const targets = form.targets;
  const setTarget = (i: number, change: Partial<{ kind: TargetKind; value: string }>) =>
    set(
      'targets',
      targets.map((t, j) => (i === j ? { ...t, ...change } : t)),
    );

  return (
    <section aria-labelledby="new-title">
      <h2 id="new-title">New request</h2>
      <p>
        Only a court order that confirms the account holder is a terrorism suspect can lead to a disclosure,
        and then only of a phone number and IP addresses. Message content is never disclosed.
      </p>
      {result && (
        <p id="decision" class="notice" role="status">
          Case <a href={`#/requests/${encodeURIComponent(result.caseId)}`}>{result.caseId}</a>:{' '}
          <StatusBadge status={result.status} />
        </p>
      )}
      <p id="error" class={error ? 'alert' : 'alert empty'} role="alert">
        {error}
      </p>
      <form id="submit-form" class="request-form" onSubmit={submit} noValidate>
        <fieldset>
          <legend>Authority</legend>
          <label for="authorityName">Name</label>
          <input {...text('authorityName')} readOnly={authority} maxLength={200} />
          {issue('authorityName')}
          <label for="authorityKind">Kind</label>
          <select {...text('authorityKind')} disabled={authority}>
            {AUTHORITY_KINDS.map((k) => (
              <option key={k} value={k}>
                {k.replace('_', ' ')}
              </option>
            ))}
          </select>
          {issue('authorityKind')}
          <label for="country">Country (ISO 3166-1, two letters)</label>
          <input {...text('country')} readOnly={authority} maxLength={2} autocomplete="off" class="short" />
          {issue('country')}
        </fieldset>
        <fieldset>
          <legend>Legal instrument</legend>
          <label for="instrumentType">Type</label>
          <select {...text('instrumentType')}>
            {INSTRUMENT_TYPES.map((k) => (
              <option key={k} value={k}>
                {k.replace('_', ' ')}
              </option>
            ))}
          </select>
          {issue('instrumentType')}
          <label for="issuingCourt">Issuing court (leave empty when no court issued it)</label>
          <input {...text('issuingCourt')} maxLength={200} />
          {issue('issuingCourt')}
          <label for="reference">Reference</label>
          <input {...text('reference')} maxLength={200} />
          {issue('reference')}
          <label for="issueDate">Issued on</label>
          <input {...text('issueDate')} type="date" />
          {issue('issueDate')}
        </fieldset>
        <fieldset>
          <legend>Offence</legend>
          <label for="offenceCategory">Category (for example terrorism)</label>
          <input {...text('offenceCategory')} maxLength={100} />
          {issue('offenceCategory')}
          <label class="check">
            <input
              type="checkbox"
              id="confirmsSuspect"
              name="confirmsSuspect"
              checked={form.confirmsSuspect}
              onChange={(e) => set('confirmsSuspect', e.currentTarget.checked)}
            />
            The order confirms that the account holder is a suspect
          </label>
        </fieldset>
        <fieldset id="targets">
          <legend>Accounts concerned (up to 100)</legend>
          {targets.map((t, i) => (
            <div class="target" key={i}>
              <label for={`target-kind-${i}`} class="visually-hidden">
                Target {i + 1} is named by
              </label>
              <select
                id={`target-kind-${i}`}
                name={`target-kind-${i}`}
                value={t.kind}
                onChange={(e) => setTarget(i, { kind: e.currentTarget.value as TargetKind })}
              >
                {TARGET_KINDS.map((k) => (
                  <option key={k} value={k}>
                    {TARGET_LABELS[k]}
                  </option>
                ))}
              </select>
              <label for={`target-${i}`} class="visually-hidden">
                Target {i + 1}
              </label>
              <input
                id={`target-${i}`}
                name={`target-${i}`}
                value={t.value}
                placeholder={t.kind === 'phone' ? '+441234567890' : ''}
                aria-invalid={issues[`target-${i}`] ? true : undefined}
                aria-describedby={issues[`target-${i}`] ? `target-${i}-issue` : undefined}
                onInput={(e) => setTarget(i, { value: e.currentTarget.value })}
              />
              <button
                type="button"
                class="secondary"
                aria-label={`Remove target ${i + 1}`}
                onClick={() =>
                  set(
                    'targets',
                    targets.filter((_, j) => j !== i),
                  )
                }
              >
                Remove
              </button>
              {issue(`target-${i}`)}
            </div>
          ))}
          {targets.length < 100 && (
            <button
              type="button"
              class="secondary"
              onClick={() => set('targets', [...targets, { kind: 'phone', value: '' }])}
            >
              Add a target
            </button>
          )}
          {issue('targets')}
        </fieldset>
        <fieldset>
          <legend>Time range</legend>
          <label for="from">From</label>
          <input {...text('from')} type="date" />
          {issue('from')}
          <label for="to">To</label>
          <input {...text('to')} type="date" />
          {issue('to')}
        </fieldset>
        <fieldset id="categories" aria-describedby={issues.categories ? 'categories-issue' : undefined}>
          <legend>Data asked for</legend>
          {COMMON_CATEGORIES.map((c) => (
            <label class="check" key={c}>
              <input
                type="checkbox"
                name="category"
                value={c}
                checked={form.categories.includes(c)}
                onChange={(e) =>
                  set(
                    'categories',
                    e.currentTarget.checked
                      ? [...form.categories, c]
                      : form.categories.filter((x) => x !== c),
                  )
                }
              />
              {c.replace('_', ' ')}
            </label>
          ))}
          <label for="otherCategories">Other categories, separated by commas</label>
          <input {...text('otherCategories')} />
          {issue('categories')}
        </fieldset>
        <fieldset>
          <legend>Non-disclosure order</legend>
          <label for="nonDisclosureUntil">
            The account holder may not be told until (leave empty if none)
          </label>
          <input {...text('nonDisclosureUntil')} type="date" />
          {issue('nonDisclosureUntil')}
        </fieldset>
        <fieldset>
          <legend>Court document</legend>
          <label for="document">The signed order or letter (PDF or image, at most 8 MB)</label>
          <input
            id="document"
            name="document"
            type="file"
            aria-invalid={issues.document ? true : undefined}
            aria-describedby={issues.document ? 'document-issue' : undefined}
            onChange={(e) => setFile(e.currentTarget.files?.[0])}
          />
          {issue('document')}
        </fieldset>
        <button type="submit" disabled={busy}>
          Submit the request
        </button>
      </form>
    </section>
  );
}
