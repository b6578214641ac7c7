/**
 * What message actions change in how a message reads (issue 14): the quote of a reply, "forwarded
 * from", the text or a "message deleted" placeholder, and the "edited" mark. Text from other people
 * is rendered as text (MessageText), never as HTML.
 */
import type { MessageRow } from '../worker/types.ts';
import { MessageText } from './message-text.tsx';

export function MessageBody({ row }: { row: MessageRow }) {
  const marks = row.actions;
  if (marks?.deleted)
    return (
      <span class="text deleted">
        <em>Message deleted</em>
      </span>
    );
  return (
    <>
      {marks?.replyTo && (
        <blockquote class="quote" aria-label={`In reply to ${marks.replyTo.name}`}>
          <span class="quote-name">{marks.replyTo.name}</span>
          <span class="quote-text">{marks.replyTo.quote || 'Message'}</span>
        </blockquote>
      )}
      {marks?.forwardedFrom && <span class="forwarded">Forwarded from {marks.forwardedFrom}</span>}
      <span class="text">
        <MessageText text={row.text} />
      </span>
      {marks?.edited && <span class="edited"> (edited)</span>}
    </>
  );
}
