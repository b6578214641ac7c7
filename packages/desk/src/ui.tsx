/** Small pieces every screen uses: running an action with its error shown, and the error region. */
import type { ComponentChildren } from 'preact';
import { useCallback, useState } from 'preact/hooks';
import { messageOf } from './api.ts';

export function useAction() {
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const run = useCallback(async (action: () => Promise<void>) => {
    setError('');
    setBusy(true);
    try {
      await action();
    } catch (caught) {
      setError(messageOf(caught));
    } finally {
      setBusy(false);
    }
  }, []);
  return { error, busy, run, setError };
}

/** The screen's error: one live region, always present so that a new message is announced. */
export function ErrorLine(props: { text: string }) {
  return (
    <p id="error" class={props.text ? 'alert' : 'alert empty'} role="alert">
      {props.text}
    </p>
  );
}

/** A status as staff say it. */
export const STATUS_WORDS: Record<string, string> = {
  not_considered: 'not considered',
  rejected: 'rejected',
  awaiting_approval: 'awaiting approval',
  approved: 'approved',
  declined: 'declined',
  produced: 'produced',
};

export function StatusBadge(props: { status: string }) {
  return (
    <span class={`badge status-${props.status}`} data-status={props.status}>
      {STATUS_WORDS[props.status] ?? props.status}
    </span>
  );
}

/** A wide table's box: it scrolls sideways on a narrow screen, and can be reached and scrolled by keyboard. */
export function TableScroll(props: { label: string; children: ComponentChildren }) {
  return (
    // biome-ignore lint/a11y/noNoninteractiveTabindex: a region that scrolls must take the focus to be scrolled by keyboard (WCAG 2.1.1)
    <section class="table-scroll" tabIndex={0} aria-label={`${props.label} (scrolls sideways)`}>
      {props.children}
    </section>
  );
}
