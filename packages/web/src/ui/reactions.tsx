/**
 * A message's reaction chips (issue 14): each emoji with its count; pressing one adds or takes back
 * this person's reaction (a toggle button, so a screen reader says whether it is on).
 */
import { device } from '../rpc.ts';
import type { MessageRow } from '../worker/types.ts';

export function Reactions(props: {
  groupId: string;
  row: MessageRow;
  run: (action: () => Promise<void>) => void;
}) {
  const marks = props.row.actions;
  if (!marks?.reactions?.length || marks.deleted) return null;
  return (
    <ul class="reactions" aria-label="Reactions">
      {marks.reactions.map((r) => (
        <li key={r.emoji}>
          <button
            type="button"
            class={`reaction ${r.mine ? 'mine' : ''}`}
            aria-pressed={r.mine}
            aria-label={`${r.emoji} ${r.count}${r.mine ? ', including you' : ''}`}
            onClick={() =>
              props.run(async () => {
                await device.messageAction(props.groupId, {
                  kind: 'react',
                  ref: marks.ref,
                  emoji: r.emoji,
                  on: !r.mine,
                });
              })
            }
          >
            <span aria-hidden="true">{r.emoji}</span> <span aria-hidden="true">{r.count}</span>
          </button>
        </li>
      ))}
    </ul>
  );
}
