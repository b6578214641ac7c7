/** Protocol constants shared by server and clients. Server-side limits below these are config. */
export const PROTOCOL_VERSION = 1;
/** No frame in either direction may be larger (an MLS commit with a path in a 5,000-member group is ~0.4 MB). */
export const MAX_FRAME_BYTES = 4 * 1024 * 1024;
export const DEFAULT_MAX_PAYLOAD_BYTES = 2 * 1024 * 1024;
export const USERNAME_PATTERN = /^[a-z0-9_]{5,32}$/;
export const MAX_DISPLAY_NAME_LENGTH = 64;
export const MAX_GROUP_TITLE_LENGTH = 128;
/**
 * What a display name or a group title may not hold, because a terminal or a page acts on it instead
 * of showing it: C0 and C1 controls (ESC among them, and newlines that would start a forged line),
 * DEL, the line and paragraph separators, and the bidirectional embeddings, overrides and isolates
 * (which reorder the rest of the line).
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is what it is for.
export const UNSAFE_TEXT_PATTERN = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/u;
export const DEFAULT_MEMBER_CAP = 5000;
/** The WebSocket path of the gateway. */
export const GATEWAY_PATH = '/v1/ws';
