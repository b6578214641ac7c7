/** Protocol constants shared by server and clients. Server-side limits below these are config. */
export const PROTOCOL_VERSION = 1;
/** No frame in either direction may be larger (an MLS commit with a path in a 5,000-member group is ~0.4 MB). */
export const MAX_FRAME_BYTES = 4 * 1024 * 1024;
export const DEFAULT_MAX_PAYLOAD_BYTES = 2 * 1024 * 1024;
export const USERNAME_PATTERN = /^[a-z0-9_]{5,32}$/;
export const MAX_DISPLAY_NAME_LENGTH = 64;
export const MAX_GROUP_TITLE_LENGTH = 128;
export const DEFAULT_MEMBER_CAP = 5000;
/** The WebSocket path of the gateway. */
export const GATEWAY_PATH = '/v1/ws';
