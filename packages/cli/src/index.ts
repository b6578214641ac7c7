export { DeviceStore } from './device-store.ts';
export { DEFAULT_SERVER, Profile } from './profile.ts';
export type { ProfileOptions, Session } from './profile.ts';
