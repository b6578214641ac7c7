/**
 * The wire format of the floor relay (bench/floor-server.ts): the least a relay needs to carry the
 * W1–W3 shapes, so that what Courier adds on top of Node and `ws` can be measured. One byte of
 * operation, then length-prefixed fields; the payload is the rest of the frame.
 *
 *   client → server   hello  [1]
 *                     join   [2][u16 group length][group]
 *                     send   [3][u32 request id][u16 group length][group][u16 id length][client msg id][payload]
 *   server → client   ready  [11]
 *                     accepted [12][u32 request id]
 *                     entry  [13][u16 group length][group][u16 id length][client msg id][payload]
 */
export const FloorOp = {
  hello: 1,
  join: 2,
  send: 3,
  ready: 11,
  accepted: 12,
  entry: 13,
} as const;

const utf8 = new TextEncoder();
const text = new TextDecoder();

/** Writes `[u16 length][utf8]` at `offset`; returns the offset after it. */
function putString(out: Uint8Array, view: DataView, offset: number, bytes: Uint8Array): number {
  view.setUint16(offset, bytes.byteLength);
  out.set(bytes, offset + 2);
  return offset + 2 + bytes.byteLength;
}

function getString(frame: Uint8Array, view: DataView, offset: number): [string, number] {
  const length = view.getUint16(offset);
  return [text.decode(frame.subarray(offset + 2, offset + 2 + length)), offset + 2 + length];
}

const viewOf = (frame: Uint8Array) => new DataView(frame.buffer, frame.byteOffset, frame.byteLength);

export function encodeJoin(group: string): Uint8Array {
  const g = utf8.encode(group);
  const out = new Uint8Array(3 + g.byteLength);
  out[0] = FloorOp.join;
  putString(out, viewOf(out), 1, g);
  return out;
}

export function encodeSend(requestId: number, group: string, clientMsgId: string, payload: Uint8Array) {
  const g = utf8.encode(group);
  const id = utf8.encode(clientMsgId);
  const out = new Uint8Array(9 + g.byteLength + id.byteLength + payload.byteLength);
  const view = viewOf(out);
  out[0] = FloorOp.send;
  view.setUint32(1, requestId);
  const after = putString(out, view, putString(out, view, 5, g), id);
  out.set(payload, after);
  return out;
}

/** The entry frame for a send: the send frame without its request id, under another op. */
export function entryOfSend(send: Uint8Array): Uint8Array {
  const out = new Uint8Array(send.byteLength - 4);
  out[0] = FloorOp.entry;
  out.set(send.subarray(5), 1);
  return out;
}

export function encodeAccepted(requestId: number): Uint8Array {
  const out = new Uint8Array(5);
  out[0] = FloorOp.accepted;
  viewOf(out).setUint32(1, requestId);
  return out;
}

export interface FloorEntry {
  group: string;
  clientMsgId: string;
  payload: Uint8Array;
}

/** Reads an entry frame (op 13) or a send frame (op 3, whose request id it skips). */
export function decodeEntry(frame: Uint8Array): FloorEntry {
  const view = viewOf(frame);
  const [group, afterGroup] = getString(frame, view, frame[0] === FloorOp.send ? 5 : 1);
  const [clientMsgId, afterId] = getString(frame, view, afterGroup);
  return { group, clientMsgId, payload: frame.subarray(afterId) };
}

export function groupOfJoin(frame: Uint8Array): string {
  return getString(frame, viewOf(frame), 1)[0];
}

export function requestIdOf(frame: Uint8Array): number {
  return viewOf(frame).getUint32(1);
}
