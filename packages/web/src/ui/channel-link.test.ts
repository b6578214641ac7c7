import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  channelLink,
  channelMediaGroup,
  channelOfMediaGroup,
  isChannelFragment,
  parseChannelTarget,
} from './channel-link.ts';

const name = fc.stringMatching(/^[a-z0-9_]{5,32}$/);
const token = fc.stringMatching(/^[A-Za-z0-9_-]{16,64}$/);

describe('channel links', () => {
  it('reads @names, bare names and whole links of both kinds', () => {
    expect(parseChannelTarget('@Courier_News')).toEqual({ name: 'courier_news' });
    expect(parseChannelTarget('  courier_news ')).toEqual({ name: 'courier_news' });
    expect(parseChannelTarget('https://chat.example/#channel=courier_news')).toEqual({
      name: 'courier_news',
    });
    expect(parseChannelTarget('https://chat.example/#channel-invite=AbCdEfGhIjKlMnOp_-12')).toEqual({
      invite: 'AbCdEfGhIjKlMnOp_-12',
    });
    expect(parseChannelTarget('#channel-invite=AbCdEfGhIjKlMnOp_-12')).toEqual({
      invite: 'AbCdEfGhIjKlMnOp_-12',
    });
  });

  it('refuses what is neither', () => {
    for (const text of [
      '',
      '@',
      'abc',
      'has space',
      '#channel-invite=short',
      '#channel-invite=%E0%A4%A',
      'x'.repeat(40),
    ])
      expect(parseChannelTarget(text), text).toBeUndefined();
  });

  it('a link made for a target reads back as that target, and is a channel fragment (property)', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          name.map((n) => ({ name: n })),
          token.map((t) => ({ invite: t })),
        ),
        (target) => {
          const link = channelLink('https://chat.example/', target);
          expect(parseChannelTarget(link)).toEqual(target);
          expect(isChannelFragment(new URL(link).hash)).toBe(true);
        },
      ),
    );
  });

  it('never throws, and what it reads is always well formed (property)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (text) => {
        const target = parseChannelTarget(text);
        if (target === undefined) return;
        if ('name' in target) expect(target.name).toMatch(/^[a-z0-9_]{5,32}$/);
        else expect(target.invite).toMatch(/^[A-Za-z0-9_-]{16,128}$/);
      }),
    );
  });

  it('a channel post’s media name reads back as its channel; a chat’s group id never does (property)', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^c_[A-Za-z0-9_-]{16,40}$/), (channelId) => {
        expect(channelOfMediaGroup(channelMediaGroup(channelId))).toBe(channelId);
      }),
    );
    fc.assert(
      fc.property(fc.stringMatching(/^g_[A-Za-z0-9_-]{16,40}$/), (groupId) => {
        expect(channelOfMediaGroup(groupId)).toBeUndefined();
      }),
    );
  });
});
