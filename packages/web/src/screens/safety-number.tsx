/**
 * The safety number this person shares with a contact, as digits and as a QR code to scan from the
 * contact's screen. Comparing it clears the warning shown when the contact's keys changed.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { device } from '../rpc.ts';
import { Alert, useAction } from '../ui/errors.tsx';

export function SafetyNumber(props: { accountId: string }) {
  const [safety, setSafety] = useState<
    { number: string; keysChanged: boolean; verified: boolean; name: string } | undefined
  >();
  const canvas = useRef<HTMLCanvasElement>(null);
  const { error, run } = useAction();
  useEffect(
    () => void run(async () => setSafety(await device.safety(props.accountId))),
    [props.accountId, run],
  );
  useEffect(() => {
    const target = canvas.current;
    // The QR code library loads when a safety number is shown, not with the app's first page.
    if (safety && target)
      void import('qrcode').then(({ toCanvas }) =>
        toCanvas(target, safety.number, { width: 200, margin: 1 }),
      );
  }, [safety]);
  if (!safety) return <Alert text={error} />;
  const groups = safety.number.replace(/\s+/g, '').match(/.{1,5}/g) ?? [];
  return (
    <section aria-labelledby="safety-title" class="safety">
      <h3 id="safety-title">Safety number with {safety.name}</h3>
      <p>
        Compare these digits with the ones on {safety.name}’s screen, in person or on a call you trust, or
        scan the code. If they match, nobody is reading along.
      </p>
      <p class="safety-number" id="safety-number">
        <span class="visually-hidden">Safety number: </span>
        {groups.map((g, i) => (
          <span key={i}>{g}</span>
        ))}
      </p>
      <canvas ref={canvas} role="img" aria-label={`QR code of the safety number with ${safety.name}`} />
      <label class="check">
        <input
          type="checkbox"
          checked={safety.verified}
          onChange={(e) => {
            const verified = e.currentTarget.checked;
            setSafety({ ...safety, verified });
            void run(async () => {
              await device.setVerified(props.accountId, verified);
              setSafety(await device.safety(props.accountId));
            });
          }}
        />{' '}
        Mark {safety.name} as verified (the numbers match)
      </label>
      {safety.keysChanged && (
        <p class="warning" role="status">
          {safety.name}’s keys changed since you last looked.{' '}
          <button
            type="button"
            onClick={() =>
              void run(async () => {
                await device.acknowledgeKeys(props.accountId);
                setSafety({ ...safety, keysChanged: false });
              })
            }
          >
            I compared the new safety number
          </button>
        </p>
      )}
      <Alert text={error} />
    </section>
  );
}
