/**
 * A list that renders only the rows in view (plus a few around them), for lists with thousands of
 * rows (a 5,000-member group, hundreds of chats). Rows have one fixed height. Written by hand: it is
 * 50 lines, and the libraries for this are built for React's reconciler or bring their own DOM.
 */
import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';

const OVERSCAN = 6;

export function VirtualList<T>(props: {
  items: readonly T[];
  rowHeight: number;
  label: string;
  keyOf: (item: T) => string;
  render: (item: T) => ComponentChildren;
  className?: string;
  /** Grow with the rows up to this CSS height, then scroll (instead of filling the space given). */
  fitUpTo?: string;
  /**
   * The box itself takes focus (to scroll it with the arrow keys): for rows that hold nothing
   * focusable (a large group's member list seen by a member). Rows with buttons are reached by Tab.
   */
  focusable?: boolean;
  /**
   * Told which rows are rendered (`first` inclusive, `last` exclusive, the few around the view
   * included) whenever that changes: to fetch what only those rows need (a member's name).
   */
  onRange?: (first: number, last: number) => void;
}) {
  const { items, rowHeight } = props;
  const box = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [height, setHeight] = useState(600);

  useEffect(() => {
    const element = box.current;
    if (!element) return;
    const observer = new ResizeObserver(() => setHeight(element.clientHeight || 600));
    observer.observe(element);
    return () => observer.disconnect();
  }, []);

  const first = Math.max(0, Math.floor(scrollTop / rowHeight) - OVERSCAN);
  const last = Math.min(items.length, Math.ceil((scrollTop + height) / rowHeight) + OVERSCAN);
  const { onRange } = props;
  useEffect(() => onRange?.(first, last), [first, last, items, onRange]);
  return (
    <div
      ref={box}
      class={`virtual ${props.className ?? ''}`}
      // The mechanics are styled here (the app's stylesheet only adds looks): a scrolling box, one tall
      // list, rows placed where they would be.
      style={{
        overflowY: 'auto',
        position: 'relative',
        ...(props.fitUpTo
          ? { height: `min(${items.length * rowHeight + 2}px, ${props.fitUpTo})`, flex: 'none' }
          : {}),
      }}
      onScroll={(event) => setScrollTop((event.currentTarget as HTMLDivElement).scrollTop)}
      tabIndex={props.focusable ? 0 : undefined}
    >
      <ul
        aria-label={props.label}
        class="virtual-body"
        style={{ height: `${items.length * rowHeight}px`, position: 'relative', margin: 0, padding: 0 }}
      >
        {items.slice(first, last).map((item, i) => (
          <li
            key={props.keyOf(item)}
            aria-setsize={items.length}
            aria-posinset={first + i + 1}
            class="virtual-row"
            style={{
              position: 'absolute',
              left: 0,
              right: 0,
              listStyle: 'none',
              top: `${(first + i) * rowHeight}px`,
              height: `${rowHeight}px`,
            }}
          >
            {props.render(item)}
          </li>
        ))}
      </ul>
    </div>
  );
}
