import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { onExitCleanup } from '../test/support/exit-cleanup.ts';
import { decodeServerFrame } from '@courier/protocol';
import type { BenchServer } from './bench-server.ts';
import { DecodeOnce } from './decode-once.ts';
import { FloorClient } from './floor-client.ts';
import { decodeEntry } from './floor-protocol.ts';
import { AckFlusher, LeanClient } from './lean-client.ts';

const root = fileURLToPath(new URL('../', import.meta.url));

/** What a workload reads of a delivered entry. */
export interface LoadEntry {
  kind: string;
  clientMsgId: string;
  payload: Uint8Array;
}

/** One load-generating connection: Courier's LeanClient or the floor's FloorClient. */
export interface LoadClient {
  /** Resolves once the server said the connection is ready. */
  connect(): Promise<void>;
  /** Resolves once the server accepted the send (Courier: durably). */
  send(groupId: string, clientMsgId: string, payload: Uint8Array): Promise<unknown>;
  onEntry: (entry: LoadEntry) => void;
  close(): void;
}

/**
 * The server a workload runs against: Courier (accounts registered through the API, chats and
 * groups created through it) or the floor relay (none of that). Clients come back unconnected.
 */
export interface Target {
  readonly pid: number;
  /** `sqlite`, `postgres`, or `none` for the floor. */
  readonly storage: string;
  /** `pairs` 1:1 chats: clients 2i and 2i+1 share chats[i]. */
  pairs(pairs: number): Promise<{ clients: LoadClient[]; chats: string[] }>;
  /**
   * One group of `members`; `joinSeconds` is the time to get them all into it (null: not measured).
   * `decodeOnce`: the clients share one DecodeOnce, so each distinct frame is decoded once.
   */
  group(
    members: number,
    options?: { decodeOnce?: boolean },
  ): Promise<{ clients: LoadClient[]; groupId: string; joinSeconds: number | null }>;
  /** `count` clients with no chat. */
  idle(count: number): Promise<LoadClient[]>;
}

export class CourierTarget implements Target {
  constructor(
    private readonly server: BenchServer,
    readonly storage: string,
  ) {}

  get pid(): number {
    return this.server.pid;
  }

  async pairs(pairs: number) {
    const users = await this.server.register(pairs * 2);
    const chats: string[] = [];
    for (let i = 0; i < pairs; i++)
      chats.push((await users[2 * i]!.http.openDirect(users[2 * i + 1]!.accountId)).groupId);
    return { clients: users.map((u) => new LeanClient(this.server.url, u.token)), chats };
  }

  async group(members: number, options: { decodeOnce?: boolean } = {}) {
    const users = await this.server.register(members);
    const owner = users[0]!;
    const t0 = performance.now();
    const group = await owner.http.createGroup('bench', []);
    for (let i = 1; i < users.length; i += 1000) {
      await owner.http.addMembers(
        group.groupId,
        users.slice(i, i + 1000).map((u) => u.accountId),
      );
    }
    const joinSeconds = (performance.now() - t0) / 1000;
    const frames = options.decodeOnce ? new DecodeOnce(decodeServerFrame) : undefined;
    // The members' acks spread over the SDK's wait and each ack frame encoded once (AckFlusher).
    const acks = new AckFlusher();
    return {
      clients: users.map(
        (u) => new LeanClient(this.server.url, u.token, frames ? { frames, acks } : { acks }),
      ),
      groupId: group.groupId,
      joinSeconds,
    };
  }

  async idle(count: number) {
    const users = await this.server.register(count);
    return users.map((u) => new LeanClient(this.server.url, u.token));
  }
}

/** The floor relay (bench/floor-server.ts) as its own process. */
export class FloorTarget implements Target {
  readonly storage = 'none';

  private constructor(
    private readonly child: ChildProcess,
    private readonly url: string,
    private readonly unregister: () => void,
  ) {}

  get pid(): number {
    return this.child.pid!;
  }

  static async start(port: number): Promise<FloorTarget> {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/floor-server.ts'], {
      cwd: root,
      env: { ...process.env, FLOOR_PORT: String(port) },
      stdio: ['ignore', 2, 2],
    });
    const unregister = onExitCleanup(() => {
      child.kill('SIGKILL');
    });
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (child.exitCode !== null) {
        unregister();
        throw new Error(`the floor server exited with ${child.exitCode}`);
      }
      try {
        if ((await fetch(`http://127.0.0.1:${port}/`)).ok) break;
      } catch {
        // not yet listening
      }
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        unregister();
        throw new Error('the floor server did not become ready');
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    return new FloorTarget(child, `ws://127.0.0.1:${port}/`, unregister);
  }

  async pairs(pairs: number) {
    const chats = Array.from({ length: pairs }, (_, i) => `pair-${i}`);
    const clients = Array.from({ length: pairs * 2 }, (_, i) => new FloorClient(this.url, [chats[i >> 1]!]));
    return { clients, chats };
  }

  async group(members: number, options: { decodeOnce?: boolean } = {}) {
    const entries = options.decodeOnce ? new DecodeOnce(decodeEntry) : undefined;
    const clients = Array.from({ length: members }, () => new FloorClient(this.url, ['group'], entries));
    return { clients, groupId: 'group', joinSeconds: null };
  }

  async idle(count: number) {
    return Array.from({ length: count }, () => new FloorClient(this.url, []));
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null) {
      const exited = new Promise((r) => this.child.once('exit', r));
      this.child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (this.child.exitCode === null) this.child.kill('SIGKILL');
    }
    this.unregister();
  }
}
