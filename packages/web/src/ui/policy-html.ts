/**
 * The privacy policy as a document: its Markdown rendered by `marked` and sanitised by DOMPurify
 * before it reaches the page (the policy is the operator's text, but nothing unsanitised is ever
 * put into the DOM as HTML).
 */
import DOMPurify from 'dompurify';
import { marked } from 'marked';

export function policyHtml(markdown: string): string {
  return DOMPurify.sanitize(marked.parse(markdown, { async: false }), {
    USE_PROFILES: { html: true },
    FORBID_TAGS: ['style', 'form', 'input', 'img'],
  });
}
