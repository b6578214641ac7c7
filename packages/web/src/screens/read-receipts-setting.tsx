/**
 * Settings → read receipts: one switch, kept on this device. Off, this device tells nobody that the
 * person read their messages, and shows nobody's reads either (sent messages stop at "Delivered"),
 * as people expect of the setting. Delivery marks are not affected. The receipts themselves travel
 * end-to-end encrypted inside the chats, so the server never learns who read what.
 */
import { useEffect, useState } from 'preact/hooks';
import { device } from '../rpc.ts';
import { Alert, useAction } from '../ui/errors.tsx';

export function ReadReceiptsSetting() {
  const [on, setOn] = useState<boolean | undefined>();
  const [status, setStatus] = useState('');
  const { error, busy, run } = useAction();
  useEffect(() => void run(async () => setOn(await device.readReceipts())), [run]);
  if (on === undefined) return <Alert text={error} />;
  return (
    <div class="read-receipts">
      <label class="check">
        <input
          type="checkbox"
          id="read-receipts"
          checked={on}
          disabled={busy}
          aria-describedby="read-receipts-hint"
          onChange={(event) => {
            // The switch moves at once (a controlled box reset to the old value until the worker
            // answers looks, to a person and to a test, like a click that did nothing) and moves back
            // if the worker refuses.
            const next = event.currentTarget.checked;
            setOn(next);
            void run(async () => {
              try {
                await device.setReadReceipts(next);
              } catch (error) {
                setOn(!next);
                throw error;
              }
              setStatus(next ? 'Read receipts are on.' : 'Read receipts are off.');
            });
          }}
        />{' '}
        Send and show read receipts
      </label>
      <p class="hint" id="read-receipts-hint">
        Off: people do not see when you read their messages, and you do not see when they read yours. On this
        device; delivery marks stay.
      </p>
      <p role="status">{status}</p>
      <Alert text={error} />
    </div>
  );
}
