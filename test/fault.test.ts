import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CourierHttp } from '@courier/sdk';
import { afterAll, describe, expect, it } from 'vitest';
import { connectDevice, nextPhone, type TestDevice, text, untext } from './support/harness.ts';
import {
  codeFromOutbox,
  freePort,
  killHard,
  type ServerProcess,
  spawnServer,
} from './support/server-process.ts';

const TOTAL = 20_000;
const KILLS = 3;
const WINDOW = 32;

describe('kill -9 while messages flow', () => {
  const dir = mkdtempSync(join(tmpdir(), 'courier-fault-'));
  const env = {
    COURIER_SQLITE_PATH: join(dir, 'courier.db'),
    COURIER_SMS_OUTBOX: join(dir, 'sms.jsonl'),
    COURIER_TRANSPARENCY_KEY: join(dir, 'key'),
    COURIER_CERTIFICATION_KEY: join(dir, 'certification.key'),
  };
  let server: ServerProcess | undefined;
  afterAll(async () => {
    if (server) await killHard(server.child);
    rmSync(dir, { recursive: true, force: true });
  });

  it(`loses no accepted message and shows none twice across ${KILLS} crashes (${TOTAL} messages)`, async () => {
    const port = await freePort();
    server = await spawnServer(env, port);
    const url = server.url;
    const register = async () => {
      const phone = nextPhone();
      const http = new CourierHttp(url);
      await http.requestCode(phone, 'register');
      const { version } = await http.privacyPolicy();
      const reply = await http.verifyCode(
        phone,
        codeFromOutbox(env.COURIER_SMS_OUTBOX, phone),
        'register',
        'fault',
        version,
      );
      http.setToken(reply.token);
      return { ...reply, http };
    };
    // Three direct chats and one group of four: ten senders, each writing into one chat.
    const users = await Promise.all(Array.from({ length: 10 }, register));
    const chats: { groupId: string; senders: number[]; members: number[] }[] = [];
    for (let p = 0; p < 3; p++) {
      const a = users[2 * p]!;
      const b = users[2 * p + 1]!;
      const chat = await a.http.openDirect(b.accountId);
      chats.push({ groupId: chat.groupId, senders: [2 * p, 2 * p + 1], members: [2 * p, 2 * p + 1] });
    }
    const group = await users[6]!.http.createGroup(
      'crash test',
      [7, 8, 9].map((i) => users[i]!.accountId),
    );
    // Adds by a stranger are invitations (the policy's default): the three accept theirs.
    for (const i of [7, 8, 9]) await users[i]!.http.acceptRequest(group.groupId);
    chats.push({ groupId: group.groupId, senders: [6, 7, 8, 9], members: [6, 7, 8, 9] });

    const devices: TestDevice[] = [];
    for (const u of users) devices.push(await connectDevice(url, u, { pingIntervalMs: 1000 }));
    const senders = chats.flatMap((c) => c.senders.map((s) => ({ sender: s, groupId: c.groupId })));
    const perSender = TOTAL / senders.length;
    let accepted = 0;

    const sendAll = async ({ sender, groupId }: { sender: number; groupId: string }) => {
      const inFlight = new Set<Promise<unknown>>();
      for (let i = 0; i < perSender; i++) {
        const p = devices[sender]!.connection.send(groupId, text(`${sender}:${i}`)).then(() => {
          accepted += 1;
          inFlight.delete(p);
        });
        inFlight.add(p);
        if (inFlight.size >= WINDOW) await Promise.race(inFlight);
      }
      await Promise.all(inFlight);
    };
    const killedAt: number[] = [];
    const killer = (async () => {
      for (let k = 1; k <= KILLS; k++) {
        while (accepted < (TOTAL * k) / (KILLS + 1)) await new Promise((r) => setTimeout(r, 5));
        killedAt.push(accepted);
        await killHard(server!.child);
        server = await spawnServer(env, port);
      }
    })();
    await Promise.all([...senders.map(sendAll), killer]);
    expect(accepted).toBe(TOTAL);
    // The crashes really happened mid-stream.
    expect(killedAt).toHaveLength(KILLS);
    for (const at of killedAt) expect(at).toBeLessThan(TOTAL);

    // Every member of every chat must end with every message of the others, once, in one order.
    for (const chat of chats) {
      for (const m of chat.members) {
        const expected = chat.senders.filter((s) => s !== m).length * perSender;
        await devices[m]!.waitForMessages(expected, 60_000);
      }
      const orders = chat.members.map((m) =>
        devices[m]!.messages()
          .filter((e) => e.groupId === chat.groupId)
          .map((e) => ({ seq: e.seq, body: untext(e.payload) })),
      );
      for (const [index, order] of orders.entries()) {
        const m = chat.members[index]!;
        expect(new Set(order.map((o) => o.body)).size).toBe(order.length);
        const seqs = order.map((o) => o.seq);
        expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
        for (const s of chat.senders.filter((x) => x !== m)) {
          const fromS = order
            .filter((o) => o.body.startsWith(`${s}:`))
            .map((o) => Number(o.body.split(':')[1]));
          expect(fromS).toEqual(Array.from({ length: perSender }, (_, i) => i));
        }
      }
      // All members see the others' messages at the same sequence numbers.
      const bySeq = new Map<number, string>();
      for (const order of orders) {
        for (const o of order) {
          const known = bySeq.get(o.seq);
          if (known !== undefined) expect(known).toBe(o.body);
          bySeq.set(o.seq, o.body);
        }
      }
    }
    for (const d of devices) await d.connection.stop();
  }, 240_000);
});
