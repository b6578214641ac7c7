/**
 * Splits a message's text into plain runs and web links, so that the view can render links as <a>
 * elements and everything else as text nodes (message text never goes through innerHTML). Only
 * http(s) addresses become links; trailing punctuation that usually ends a sentence stays text.
 */
export type Segment = { kind: 'text'; text: string } | { kind: 'link'; text: string; href: string };

const CANDIDATE = /\bhttps?:\/\/[^\s<>"']+/gi;
const TRAILING = /[.,;:!?)\]}'"»”’]+$/;

export function linkify(text: string): Segment[] {
  const segments: Segment[] = [];
  let last = 0;
  for (const match of text.matchAll(CANDIDATE)) {
    let candidate = match[0];
    const trailing = TRAILING.exec(candidate)?.[0] ?? '';
    // Keep a closing bracket that belongs to the address, as in https://en.wikipedia.org/wiki/X_(Y).
    candidate = candidate.slice(0, candidate.length - trailing.length);
    let url: URL | undefined;
    try {
      url = new URL(candidate);
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.hostname === '') continue;
    const at = match.index;
    if (at > last) segments.push({ kind: 'text', text: text.slice(last, at) });
    segments.push({ kind: 'link', text: candidate, href: url.href });
    last = at + candidate.length;
  }
  if (last < text.length) segments.push({ kind: 'text', text: text.slice(last) });
  return segments;
}
