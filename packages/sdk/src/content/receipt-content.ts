import { CourierError } from '@courier/protocol';
import type { ContentType } from './content-type.ts';

export type ReceiptStatus = 'delivered' | 'read';

/**
 * A delivery or read receipt: "this device has every message of the chat up to `upToSeq`" (delivered)
 * or "the person has read the chat up to `upToSeq`" (read). One receipt covers every message up to
 * that position, so a device sends one per batch, not one per message. It travels end-to-end
 * encrypted like any message; it is never shown and never answered by another receipt.
 */
export interface ReceiptContent {
  v: 1;
  type: 'receipt';
  status: ReceiptStatus;
  upToSeq: number;
  sentAtMs: number;
}

export const receiptContent: ContentType<ReceiptContent> = {
  type: 'receipt',
  shown: false,
  parse(value) {
    const { status, upToSeq, sentAtMs } = value;
    if (status !== 'delivered' && status !== 'read') return 'The receipt has no known status.';
    if (typeof upToSeq !== 'number' || !Number.isSafeInteger(upToSeq) || upToSeq < 1)
      return 'The receipt has no position.';
    if (typeof sentAtMs !== 'number' || !Number.isSafeInteger(sentAtMs))
      return 'The sending time is missing.';
    return { v: 1, type: 'receipt', status, upToSeq, sentAtMs };
  },
  check(content) {
    if (!Number.isSafeInteger(content.upToSeq) || content.upToSeq < 1)
      throw new CourierError('REQ_INVALID', { message: 'A receipt names a position of 1 or more.' });
  },
};
