import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatBytes, formatDuration, mediaKind } from './media-format.ts';

describe('media formats', () => {
  it('sizes', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1536)).toBe('1.5 KB');
    expect(formatBytes(300 * 1024 * 1024)).toBe('300 MB');
    fc.assert(
      fc.property(fc.nat(), (n) => {
        expect(formatBytes(n)).toMatch(/^\d+(\.\d)? (B|KB|MB|GB|TB)$/);
      }),
    );
  });

  it('durations', () => {
    expect(formatDuration(3_400)).toBe('0:03');
    expect(formatDuration(65_000)).toBe('1:05');
    expect(formatDuration(3_725_000)).toBe('1:02:05');
    fc.assert(
      fc.property(fc.nat(), (n) => {
        expect(formatDuration(n)).toMatch(/^(\d+:)?\d+:\d\d$/);
      }),
    );
  });

  it('kinds', () => {
    expect(mediaKind('image/webp')).toBe('photo');
    expect(mediaKind('image/svg+xml')).toBe('file');
    expect(mediaKind('video/webm')).toBe('video');
    expect(mediaKind('audio/webm')).toBe('audio');
    expect(mediaKind('application/pdf')).toBe('file');
  });
});
