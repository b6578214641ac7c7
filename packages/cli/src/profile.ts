import { existsSync, readdirSync, rmdirSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { CourierError } from '@courier/protocol';
import { CourierHttp } from '@courier/sdk';
import { readJson, writeFileAtomic } from './atomic-file.ts';
import { ChannelKeyringFile } from './channel-keyring-file.ts';
import { DeviceStore } from './device-store.ts';
import { holdLock } from './file-lock.ts';

export interface Session {
  server: string;
  token: string;
  accountId: string;
  deviceId: string;
  phone: string;
}

/** A code requested by one run and verified by a later one (`--request-only`, then `--code`). */
export interface PendingVerification {
  server: string;
  /** The number as typed and as the server normalised it. */
  phones: string[];
  verificationId: string;
}

/** What a profile remembers besides its session. */
interface Settings {
  server?: string;
}

export interface ProfileOptions {
  home?: string;
  profile?: string;
  server?: string;
}

export const DEFAULT_SERVER = 'http://127.0.0.1:8080';

/**
 * One person's device on this machine: a folder (mode 0700) with its server, its session and its
 * client store, each file written atomically with mode 0600.
 */
export class Profile {
  readonly dir: string;
  private readonly serverOverride: string | undefined;

  constructor(options: ProfileOptions, env: NodeJS.ProcessEnv = process.env) {
    // --home, then --profile, then COURIER_HOME, then ~/.courier/default; an empty variable is unset.
    const named = (name: string) => join(homedir(), '.courier', name);
    this.dir =
      options.home ?? (options.profile ? named(options.profile) : env.COURIER_HOME || named('default'));
    this.serverOverride = options.server ?? (env.COURIER_SERVER || undefined);
  }

  private get sessionPath(): string {
    return join(this.dir, 'session.json');
  }

  private get settingsPath(): string {
    return join(this.dir, 'profile.json');
  }

  session(): Session | undefined {
    return readJson<Session>(this.sessionPath);
  }

  /** The session, or a clear error telling the person to register or log in. */
  requireSession(): Session {
    const session = this.session();
    if (!session) {
      throw new CourierError('AUTH_REQUIRED', {
        message: `No session in ${this.dir}: run "courier register <phone>" or "courier login <phone>" first.`,
      });
    }
    return session;
  }

  saveSession(session: Session): void {
    writeFileAtomic(this.sessionPath, JSON.stringify(session, null, 2));
  }

  clearSession(): void {
    rmSync(this.sessionPath, { force: true });
  }

  /**
   * Forgets the signed-in device once its session is over (logged out, revoked, or found dead by a new
   * sign-in): the session, and the device's store with SQLite's side files. Its keys can never serve
   * again (the next sign-in is a new device), and nothing can read its history without them, so only
   * the plaintext would stay on disk. Returns the paths removed.
   */
  forgetDevice(): string[] {
    const session = this.session();
    this.clearSession();
    if (!session) return [];
    const store = join(this.dir, 'devices', `${session.deviceId}.db`);
    const removed: string[] = [];
    for (const path of [store, `${store}-wal`, `${store}-shm`, `${store}-journal`]) {
      if (!existsSync(path)) continue;
      rmSync(path, { force: true });
      removed.push(path);
    }
    return removed;
  }

  private get pendingPath(): string {
    return join(this.dir, 'pending-code.json');
  }

  /** Remembers the verification id of a code requested now and verified by a later run. */
  savePendingVerification(pending: PendingVerification): void {
    writeFileAtomic(this.pendingPath, JSON.stringify(pending, null, 2));
  }

  /** The verification id of the code last requested here for this number on this server, if any. */
  pendingVerification(server: string, phone: string): string | undefined {
    const pending = readJson<PendingVerification>(this.pendingPath);
    return pending?.server === server && pending.phones.includes(phone) ? pending.verificationId : undefined;
  }

  clearPendingVerification(): void {
    rmSync(this.pendingPath, { force: true });
  }

  /** --server or COURIER_SERVER, else the one this profile remembers, else the default. */
  server(): string {
    return (
      this.serverOverride ??
      readJson<Settings>(this.settingsPath)?.server ??
      this.session()?.server ??
      DEFAULT_SERVER
    );
  }

  /** Remembers the server, so later commands of this profile need no --server. */
  rememberServer(server: string): void {
    const settings = readJson<Settings>(this.settingsPath) ?? {};
    if (settings.server !== server)
      writeFileAtomic(this.settingsPath, JSON.stringify({ ...settings, server }, null, 2));
  }

  /** The HTTP API, with this device's session token when there is one. */
  http(): CourierHttp {
    return new CourierHttp(this.server(), this.session()?.token);
  }

  /**
   * The store of this profile's signed-in device (its MLS identity, chats' group state, messages,
   * positions and outbox), one SQLite file per device: a new sign-in is a new device with new keys.
   */
  deviceStore(): DeviceStore {
    const session = this.requireSession();
    return new DeviceStore(join(this.dir, 'devices', `${session.deviceId}.db`));
  }

  /** Pinned channel keys, the keys of channels this device posts in, and read positions. */
  channelKeyring(): ChannelKeyringFile {
    return new ChannelKeyringFile(join(this.dir, 'channels.json'));
  }

  /**
   * Erases what this profile keeps on this machine, once its account is deleted: every device store
   * of the profile (the decrypted messages, keys, outbox and drafts; with SQLite's WAL and journal
   * files), the session, the remembered server, the endpoint and transparency-check state, and the
   * folder itself when nothing else is in it. Files the person put there are left; what it removed
   * and what it left are returned.
   */
  eraseLocalData(): { removed: string[]; left: string[] } {
    const removed: string[] = [];
    const ours = (name: string) =>
      [
        'session.json',
        'profile.json',
        'endpoints.json',
        'connection.lock',
        'devices',
        'channels.json',
      ].includes(name) ||
      /^transparency-.*\.json$/.test(name) ||
      // What writeFileAtomic leaves if it was interrupted.
      /^(session|profile|endpoints|channels|transparency-.*)\.json\.\d+\.tmp$/.test(name);
    if (!existsSync(this.dir)) return { removed, left: [] };
    for (const name of readdirSync(this.dir)) {
      if (!ours(name)) continue;
      const path = join(this.dir, name);
      rmSync(path, { recursive: true, force: true });
      removed.push(path);
    }
    const left = readdirSync(this.dir).map((name) => join(this.dir, name));
    if (left.length === 0) {
      rmdirSync(this.dir);
      removed.push(this.dir);
    }
    return { removed, left };
  }

  /** Like `claimConnection`, but returns undefined when another process holds the connection. */
  tryClaimConnection(): (() => void) | undefined {
    const lock = holdLock(join(this.dir, 'connection.lock'));
    return 'release' in lock ? lock.release : undefined;
  }

  /**
   * Claims the device's one live connection for a long-running command (listen, chat). The server
   * keeps one connection per device and replaces the older one, so two long-running commands on
   * one profile would keep pushing each other off; the second is refused instead.
   */
  claimConnection(command: string): () => void {
    const lock = holdLock(join(this.dir, 'connection.lock'));
    if ('release' in lock) return lock.release;
    throw new Error(
      `another courier (pid ${lock.heldBy}) is already connected as this device (${this.dir}); ` +
        `stop it, or ${command} from a second device: courier --profile <name> login <phone>`,
    );
  }
}
