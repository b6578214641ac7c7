/** The one alert region of a screen, and a helper that runs an action and shows its failure there. */
import { useCallback, useState } from 'preact/hooks';
import { AppError } from '../rpc.ts';

export function messageOf(error: unknown): string {
  if (error instanceof AppError) return error.message;
  if (error instanceof Error) return error.message;
  return String(error);
}

export function useAction(): {
  error: string;
  busy: boolean;
  run: (action: () => Promise<void>) => Promise<void>;
  setError: (text: string) => void;
} {
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

/** Shown only while there is something to say (an alert is announced when it appears). */
export function Alert({ text }: { text: string }) {
  if (text === '') return null;
  return (
    <p class="alert" role="alert">
      {text}
    </p>
  );
}
