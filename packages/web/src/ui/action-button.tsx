/**
 * A button that runs one of a screen's actions through its `useAction` (so a failure shows in the
 * screen's alert, and every action button is disabled while one runs), after an optional
 * confirmation in the person's words.
 */
import type { ComponentChildren } from 'preact';

export function ActionButton(props: {
  /** `run` and `busy` of the screen's `useAction()`. */
  run: (action: () => Promise<void>) => Promise<void>;
  busy: boolean;
  action: () => Promise<void>;
  /** Asked first; the action runs only if the person agrees. */
  confirm?: string;
  kind?: 'secondary' | 'danger';
  children: ComponentChildren;
}) {
  return (
    <button
      type="button"
      class={props.kind}
      disabled={props.busy}
      onClick={() => {
        if (props.confirm !== undefined && !window.confirm(props.confirm)) return;
        void props.run(props.action);
      }}
    >
      {props.children}
    </button>
  );
}
