import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WindowCounter } from './window-counter.ts';

describe('WindowCounter', () => {
  it('counts like a fixed window per key, and a sweep forgets only ended windows (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 100 }),
        fc.array(fc.record({ key: fc.constantFrom('a', 'b', 'c'), step: fc.nat(60), sweep: fc.boolean() }), {
          maxLength: 100,
        }),
        (windowMs, events) => {
          const counter = new WindowCounter(windowMs);
          const model = new Map<string, number[]>();
          let now = 0;
          for (const { key, step, sweep } of events) {
            now += step;
            const times = model.get(key) ?? [];
            // The model: the window starts at the first event after the previous window ended.
            const continuing = times.length > 0 && now - times[0]! < windowMs;
            const inWindow = continuing ? [...times, now] : [now];
            model.set(key, inWindow);
            expect(counter.hit(key, now)).toBe(inWindow.length);
            if (sweep) {
              counter.sweep(now);
              for (const [k, t] of model) if (now - t[0]! >= windowMs) model.delete(k);
              expect(counter.size).toBe(model.size);
            }
          }
        },
      ),
    );
  });
});
