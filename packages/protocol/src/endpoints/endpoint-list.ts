import { ed25519 } from '@noble/curves/ed25519.js';
import { CourierError } from '../errors.ts';
import { fromBase64, toBase64 } from '../mls-api.ts';

/**
 * The signed list of ways into the service. The operator signs it offline with an Ed25519 key;
 * clients pin two public keys (current and next) and accept a list only if one of them verifies it,
 * its serial is not lower than the one they hold and it has not expired (with a day of clock skew).
 *
 * On the wire a signed document is `{ payload, signature }`: `payload` is the base64 of the UTF-8
 * JSON the operator signed, `signature` the base64 Ed25519 signature over a domain label followed by
 * those exact bytes. Nothing is re-serialized before verifying, so no canonical form is needed.
 */
export type EndpointKind = 'core' | 'relay';

export interface Endpoint {
  /** Stable name, unique within a list: `[a-z0-9-]{1,64}`. */
  id: string;
  kind: EndpointKind;
  /** `ws:`, `wss:`, `http:` or `https:` URL of the endpoint (for a relay: including its secret path). */
  url: string;
  /** TLS server name to present, when it differs from the URL's host (e.g. a fronting name). */
  sni?: string;
  /** Relative preference, 1..1000. */
  weight: number;
}

export interface EndpointList {
  version: 1;
  serial: number;
  /** Milliseconds since the epoch. */
  issuedAt: number;
  expiresAt: number;
  /** base64 SHA-256 of each core TLS key's SubjectPublicKeyInfo, for clients tunnelling through relays. */
  corePins: string[];
  endpoints: Endpoint[];
}

export interface SignedDocument {
  payload: string;
  signature: string;
}

/** One endpoint signed on its own: what a shareable link or QR code carries. */
export interface EndpointTicket {
  version: 1;
  endpoint: Endpoint;
  issuedAt: number;
  expiresAt: number;
  corePins: string[];
}

export const LIST_DOMAIN = 'courier-endpoint-list/1\n';
export const TICKET_DOMAIN = 'courier-endpoint-ticket/1\n';
/** How far a client's clock may be off: a list expired by less than this is still accepted. */
export const ENDPOINT_CLOCK_SKEW_MS = 24 * 60 * 60 * 1000;
export const MAX_ENDPOINTS = 1000;
const ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,63}$/;
const PIN_PATTERN = /^[A-Za-z0-9+/]{43}=$/;
const SNI_PATTERN =
  /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const MAX_PAYLOAD_BYTES = 256 * 1024;

function malformed(message: string): CourierError {
  return new CourierError('ENDPOINTS_MALFORMED', { message: `Endpoint list: ${message}` });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function exactKeys(
  value: Record<string, unknown>,
  required: string[],
  optional: string[],
  what: string,
): void {
  for (const key of required) if (!(key in value)) throw malformed(`${what} lacks "${key}"`);
  for (const key of Object.keys(value))
    if (!required.includes(key) && !optional.includes(key)) throw malformed(`${what} has unknown "${key}"`);
}

function timestamp(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0)
    throw malformed(`${what} is not a time in milliseconds`);
  return value;
}

function pins(value: unknown): string[] {
  if (!Array.isArray(value) || value.length > 16) throw malformed('corePins is not a list of up to 16 pins');
  for (const pin of value)
    if (typeof pin !== 'string' || !PIN_PATTERN.test(pin))
      throw malformed('a core pin is not a base64 SHA-256');
  return [...value] as string[];
}

/** Checks one endpoint entry and returns a copy holding only its known fields. */
export function parseEndpoint(value: unknown): Endpoint {
  if (!isRecord(value)) throw malformed('an endpoint is not an object');
  exactKeys(value, ['id', 'kind', 'url', 'weight'], ['sni'], 'an endpoint');
  const { id, kind, url, weight, sni } = value;
  if (typeof id !== 'string' || !ID_PATTERN.test(id))
    throw malformed('an endpoint id is not [a-z0-9-]{1,64}');
  if (kind !== 'core' && kind !== 'relay') throw malformed(`endpoint ${id} has an unknown kind`);
  if (typeof url !== 'string' || url.length > 2048) throw malformed(`endpoint ${id} has no URL`);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (cause) {
    throw new CourierError('ENDPOINTS_MALFORMED', { message: `endpoint ${id} has a bad URL`, cause });
  }
  if (!['ws:', 'wss:', 'http:', 'https:'].includes(parsed.protocol) || parsed.username || parsed.password)
    throw malformed(`endpoint ${id} URL must be ws, wss, http or https without credentials`);
  if (typeof weight !== 'number' || !Number.isInteger(weight) || weight < 1 || weight > 1000)
    throw malformed(`endpoint ${id} weight is not an integer 1..1000`);
  if (sni !== undefined && (typeof sni !== 'string' || !SNI_PATTERN.test(sni)))
    throw malformed(`endpoint ${id} SNI is not a host name`);
  return { id, kind, url, weight, ...(sni === undefined ? {} : { sni }) };
}

/** Checks an unsigned list (as the operator writes it, or as decoded from a payload). */
export function parseEndpointList(value: unknown): EndpointList {
  if (!isRecord(value)) throw malformed('not an object');
  exactKeys(value, ['version', 'serial', 'issuedAt', 'expiresAt', 'corePins', 'endpoints'], [], 'the list');
  if (value.version !== 1) throw malformed('unknown version');
  const serial = value.serial;
  if (typeof serial !== 'number' || !Number.isSafeInteger(serial) || serial < 0)
    throw malformed('serial is not a non-negative integer');
  const issuedAt = timestamp(value.issuedAt, 'issuedAt');
  const expiresAt = timestamp(value.expiresAt, 'expiresAt');
  if (expiresAt <= issuedAt) throw malformed('it expires before it was issued');
  if (
    !Array.isArray(value.endpoints) ||
    value.endpoints.length === 0 ||
    value.endpoints.length > MAX_ENDPOINTS
  )
    throw malformed(`endpoints is not a list of 1..${MAX_ENDPOINTS}`);
  const endpoints = value.endpoints.map(parseEndpoint);
  const ids = new Set(endpoints.map((e) => e.id));
  if (ids.size !== endpoints.length) throw malformed('two endpoints share an id');
  return { version: 1, serial, issuedAt, expiresAt, corePins: pins(value.corePins), endpoints };
}

/** Checks an unsigned ticket (one endpoint). */
export function parseEndpointTicket(value: unknown): EndpointTicket {
  if (!isRecord(value)) throw malformed('the ticket is not an object');
  exactKeys(value, ['version', 'endpoint', 'issuedAt', 'expiresAt', 'corePins'], [], 'the ticket');
  if (value.version !== 1) throw malformed('unknown ticket version');
  const issuedAt = timestamp(value.issuedAt, 'issuedAt');
  const expiresAt = timestamp(value.expiresAt, 'expiresAt');
  if (expiresAt <= issuedAt) throw malformed('the ticket expires before it was issued');
  return {
    version: 1,
    endpoint: parseEndpoint(value.endpoint),
    issuedAt,
    expiresAt,
    corePins: pins(value.corePins),
  };
}

function signBytes(domain: string, value: unknown, secretKey: Uint8Array): SignedDocument {
  const payload = new TextEncoder().encode(JSON.stringify(value));
  const message = concat(new TextEncoder().encode(domain), payload);
  return { payload: toBase64(payload), signature: toBase64(ed25519.sign(message, secretKey)) };
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

/** Decodes a signed document and returns the JSON it carries, after one of `trustedKeys` verified it. */
function openSigned(domain: string, document: unknown, trustedKeys: readonly Uint8Array[]): unknown {
  if (!isRecord(document)) throw malformed('the signed document is not an object');
  exactKeys(document, ['payload', 'signature'], [], 'the signed document');
  const { payload, signature } = document;
  if (typeof payload !== 'string' || typeof signature !== 'string')
    throw malformed('payload or signature is not text');
  const bytes = fromBase64(payload);
  const sig = fromBase64(signature);
  if (!bytes || bytes.length > MAX_PAYLOAD_BYTES)
    throw malformed('the payload is not base64 of at most 256 KiB');
  if (sig?.length !== 64) throw new CourierError('ENDPOINTS_SIGNATURE_INVALID');
  const message = concat(new TextEncoder().encode(domain), bytes);
  const verified = trustedKeys.some((key) => {
    try {
      return key.length === 32 && ed25519.verify(sig, message, key);
    } catch {
      return false;
    }
  });
  if (!verified) throw new CourierError('ENDPOINTS_SIGNATURE_INVALID');
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (cause) {
    throw new CourierError('ENDPOINTS_MALFORMED', {
      message: 'Endpoint list: the signed payload is not JSON.',
      cause,
    });
  }
}

export function signEndpointList(list: EndpointList, secretKey: Uint8Array): SignedDocument {
  return signBytes(LIST_DOMAIN, parseEndpointList(list), secretKey);
}

export function signEndpointTicket(ticket: EndpointTicket, secretKey: Uint8Array): SignedDocument {
  return signBytes(TICKET_DOMAIN, parseEndpointTicket(ticket), secretKey);
}

function checkFresh(issuedAt: number, expiresAt: number, now: number): void {
  if (now > expiresAt + ENDPOINT_CLOCK_SKEW_MS) throw new CourierError('ENDPOINTS_EXPIRED');
  if (issuedAt > now + ENDPOINT_CLOCK_SKEW_MS)
    throw new CourierError('ENDPOINTS_EXPIRED', { message: 'The endpoint list was issued in the future.' });
}

export interface VerifyListOptions {
  /** The pinned public keys (current and next). */
  trustedKeys: readonly Uint8Array[];
  now: number;
  /** The serial of the list the client already holds; a lower one is a rollback. */
  heldSerial?: number;
}

/** Verifies a signed list: signature by a pinned key, well-formed, fresh, no rollback. */
export function verifyEndpointList(document: unknown, options: VerifyListOptions): EndpointList {
  const list = parseEndpointList(openSigned(LIST_DOMAIN, document, options.trustedKeys));
  checkFresh(list.issuedAt, list.expiresAt, options.now);
  if (options.heldSerial !== undefined && list.serial < options.heldSerial)
    throw new CourierError('ENDPOINTS_SERIAL_ROLLBACK', {
      details: { serial: list.serial, held: options.heldSerial },
    });
  return list;
}

/** Verifies one signed endpoint (from a link, a QR code or the core's per-account relay set). */
export function verifyEndpointTicket(
  document: unknown,
  options: { trustedKeys: readonly Uint8Array[]; now: number },
): EndpointTicket {
  const ticket = parseEndpointTicket(openSigned(TICKET_DOMAIN, document, options.trustedKeys));
  checkFresh(ticket.issuedAt, ticket.expiresAt, options.now);
  return ticket;
}

export const ENDPOINT_LINK_PREFIX = 'courier://endpoint?t=';

function toBase64Url(text: string): string {
  return text.replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '');
}

function fromBase64Url(text: string): string | undefined {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) return undefined;
  const b64 = text.replaceAll('-', '+').replaceAll('_', '/');
  return b64 + '='.repeat((4 - (b64.length % 4)) % 4);
}

/** A shareable `courier://endpoint?t=…` link (fits a QR code) carrying one signed endpoint. */
export function endpointLink(ticket: SignedDocument): string {
  const body = new TextEncoder().encode(JSON.stringify([ticket.payload, ticket.signature]));
  return ENDPOINT_LINK_PREFIX + toBase64Url(toBase64(body));
}

/** Reads a link back into the signed document; verify it with `verifyEndpointTicket`. */
export function parseEndpointLink(link: string): SignedDocument {
  const invalid = () => new CourierError('ENDPOINTS_LINK_INVALID');
  if (typeof link !== 'string' || !link.startsWith(ENDPOINT_LINK_PREFIX) || link.length > 8192)
    throw invalid();
  const b64 = fromBase64Url(link.slice(ENDPOINT_LINK_PREFIX.length));
  const bytes = b64 === undefined ? undefined : fromBase64(b64);
  if (!bytes) throw invalid();
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (cause) {
    throw new CourierError('ENDPOINTS_LINK_INVALID', { cause });
  }
  if (
    !Array.isArray(parsed) ||
    parsed.length !== 2 ||
    typeof parsed[0] !== 'string' ||
    typeof parsed[1] !== 'string'
  )
    throw invalid();
  return { payload: parsed[0], signature: parsed[1] };
}
