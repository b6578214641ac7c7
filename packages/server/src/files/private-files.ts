import { chmodSync, closeSync, existsSync, mkdirSync, openSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Every file the server writes holds personal data or a secret, so it is the server's user's
 * alone: folders 0700, files 0600, whatever the umask.
 */
export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

/** Creates a folder (and its missing parents) readable only by this user. */
export function makePrivateDir(path: string): void {
  mkdirSync(path, { recursive: true, mode: PRIVATE_DIR_MODE });
}

/** Writes a file 0600 in a 0700 folder; `flag: 'wx'` refuses to replace an existing file. */
export function writePrivateFile(path: string, data: string | Uint8Array, flag: 'w' | 'wx' = 'w'): void {
  makePrivateDir(dirname(path));
  writeFileSync(path, data, { mode: PRIVATE_FILE_MODE, flag });
  restrictFile(path);
}

/**
 * Makes a file 0600: creates it empty if missing (so a library that opens it later, such as
 * SQLite for its database and its -wal/-shm files, keeps that mode), narrows it if it is wider.
 */
export function ensurePrivateFile(path: string): void {
  makePrivateDir(dirname(path));
  if (!existsSync(path)) closeSync(openSync(path, 'a', PRIVATE_FILE_MODE));
  restrictFile(path);
}

/** Narrows an existing file to 0600 if anyone but its owner may read or write it. */
export function restrictFile(path: string): void {
  if (existsSync(path) && (statSync(path).mode & 0o077) !== 0) chmodSync(path, PRIVATE_FILE_MODE);
}
