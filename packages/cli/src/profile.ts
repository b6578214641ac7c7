import { rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { CourierError } from '@courier/protocol';
import { CourierHttp } from '@courier/sdk';
import { readJson, writeFileAtomic } from './atomic-file.ts';
import { FileClientStore } from './file-client-store.ts';

export interface Session {
  server: string;
  token: string;
  accountId: string;
  deviceId: string;
  phone: string;
}

export interface ProfileOptions {
  home?: string;
  profile?: string;
  server?: string;
}

export const DEFAULT_SERVER = 'http://127.0.0.1:8080';

/** One person's device on this machine: a folder with its session and its client store. */
export class Profile {
  readonly dir: string;

  constructor(
    options: ProfileOptions,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {
    this.dir = options.home ?? env.COURIER_HOME ?? join(homedir(), '.courier', options.profile ?? 'default');
    this.serverOverride = options.server ?? env.COURIER_SERVER;
  }

  private readonly serverOverride: string | undefined;

  get sessionPath(): string {
    return join(this.dir, 'session.json');
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

  server(): string {
    return this.serverOverride ?? this.session()?.server ?? DEFAULT_SERVER;
  }

  http(): CourierHttp {
    const session = this.session();
    return new CourierHttp(this.server(), session?.token);
  }

  store(): FileClientStore {
    return new FileClientStore(join(this.dir, 'client-store.json'));
  }
}
