/**
 * One kind of content that travels inside an MLS application message. Each kind lives in a file of
 * its own in this folder and is listed once in `content-registry.ts`; a client that meets a kind it
 * does not list keeps the message as "unsupported" (never drops it, never calls it undecryptable).
 */
export interface ContentType<C extends { v: 1; type: string }> {
  /** The `type` field on the wire. */
  readonly type: C['type'];
  /**
   * Shown in the chat as a message (and so counted as unread, and answered by a delivery receipt),
   * or a control message that is never shown and never answered (receipts: no receipt for a receipt).
   */
  readonly shown: boolean;
  /** Checks a parsed object whose `v` is 1 and whose `type` is this one: the content, or a reason. */
  parse(value: Record<string, unknown>): C | string;
  /** Refuses what may not be sent (a CourierError REQ_INVALID); nothing to refuse when absent. */
  check?(content: C): void;
}

/** What a client makes of the bytes of an application message: never an exception. */
export type DecodedContent<C> =
  /** A type this client knows, well formed. */
  | { kind: 'known'; content: C; shown: boolean }
  /** A type (or a version of one) this client does not know: kept and shown as "unsupported". */
  | { kind: 'unsupported'; type: string; v: number }
  /** Not a content object at all, or a known type with broken fields. */
  | { kind: 'malformed'; reason: string };
