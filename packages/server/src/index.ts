export { buildApp } from './app/build-app.ts';
export type { CourierApp } from './app/build-app.ts';
export { configSchema, parseConfig } from './config.ts';
export type { Config, ConfigInput } from './config.ts';
export { systemClock } from './deps.ts';
export type { Clock, ServerDeps } from './deps.ts';
export type { SmsSender } from './sms/ports.ts';
export type { Storage } from './storage/ports.ts';
