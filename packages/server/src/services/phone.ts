import { CourierError } from '@courier/protocol';
import { parsePhoneNumberWithError } from 'libphonenumber-js/max';

/** Parses an international number ("+44 1234 567890") to E.164, or throws AUTH_INVALID_PHONE. */
export function normalizePhone(raw: string): string {
  if (typeof raw !== 'string' || raw.length > 40 || !raw.trim().startsWith('+')) {
    throw new CourierError('AUTH_INVALID_PHONE');
  }
  try {
    const parsed = parsePhoneNumberWithError(raw.trim());
    if (!parsed.isValid()) throw new CourierError('AUTH_INVALID_PHONE');
    return parsed.number;
  } catch (cause) {
    if (cause instanceof CourierError) throw cause;
    throw new CourierError('AUTH_INVALID_PHONE', { cause });
  }
}
