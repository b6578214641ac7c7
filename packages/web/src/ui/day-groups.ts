/** Puts a day separator before the first message of each calendar day (in the viewer's time zone). */
export type WithDays<T> = { kind: 'day'; key: string; label: string } | { kind: 'item'; item: T };

export function dayKey(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${d.getMonth() + 1}-${d.getDate()}`;
}

/**
 * One formatter each, made once: `toLocaleDateString`/`toLocaleTimeString` with options build a new
 * Intl.DateTimeFormat on every call, which made most of the page's time to show a page of messages.
 */
const DAY = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'long', day: 'numeric' });
const TIME = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });

export function dayLabel(ms: number, nowMs: number): string {
  if (dayKey(ms) === dayKey(nowMs)) return 'Today';
  if (dayKey(ms) === dayKey(nowMs - 86_400_000)) return 'Yesterday';
  return DAY.format(ms);
}

/** A message's time of day as the viewer's locale writes it (hours and minutes). */
export function timeOfDay(ms: number): string {
  return TIME.format(ms);
}

export function withDaySeparators<T>(
  items: readonly T[],
  timeOf: (item: T) => number,
  nowMs: number,
): WithDays<T>[] {
  const out: WithDays<T>[] = [];
  let current: string | undefined;
  for (const item of items) {
    const key = dayKey(timeOf(item));
    if (key !== current) {
      out.push({ kind: 'day', key: `day-${key}`, label: dayLabel(timeOf(item), nowMs) });
      current = key;
    }
    out.push({ kind: 'item', item });
  }
  return out;
}
