import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { strFromU8, unzipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import {
  bytesSource,
  ChannelClient,
  MemoryChannelKeyring,
  StickerApi,
  uploadEncryptedFile,
} from '@courier/sdk';
import { stillPng } from './support/sticker-images.ts';
import { inventory } from './support/data-inventory.ts';
import { nextPhone, startTestServer, unsafeTestingClock } from './support/harness.ts';

/**
 * The issue's proof, line by line, where the other privacy tests leave a gap: the export checked
 * against the data inventory itself, erasure under a legal hold scanned cell by cell, and the
 * retention rules for codes and rate windows on an injected clock, and through `courier-server purge`.
 */

const root = fileURLToPath(new URL('../', import.meta.url));
const HOUR = 3_600_000;

type Json = Record<string, unknown>;
/** The exported connection record of a stored one (one per device and address). */
const record = (data: Json, row: Json) =>
  (data.connectionRecords as Json[]).find((x) => x.ip === row.ip && x.deviceId === row.device_id);
/** The exported report of a stored one. */
const filed = (data: Json, row: Json) => (data.reportsFiled as Json[]).find((x) => x.reportId === row.id);
const iso = (ms: unknown) => (ms === null ? null : new Date(Number(ms)).toISOString());

/**
 * Where each personal or disclosable column of a person's own records appears in their export: the
 * database rows of the account (`rows`) and the export (`data`) must agree on every one.
 */
const EXPORTED: Record<string, (rows: Record<string, Json[]>, data: Json) => [unknown, unknown][]> = {
  'accounts.phone': (r, d) => [[r.accounts![0]!.phone, (d.account as Json).phone]],
  'accounts.username': (r, d) => [[r.accounts![0]!.username, (d.account as Json).username]],
  'accounts.username_key': (r, d) => [
    [r.accounts![0]!.username_key, String((d.account as Json).username).toLowerCase()],
  ],
  'accounts.display_name': (r, d) => [[r.accounts![0]!.display_name, (d.account as Json).displayName]],
  'accounts.last_seen_day': (r, d) => [[iso(r.accounts![0]!.last_seen_day), (d.account as Json).lastSeenDay]],
  'accounts.phone_visibility': (r, d) => [
    [r.accounts![0]!.phone_visibility, (d.privacySettings as Json).phoneVisibility],
  ],
  'accounts.phone_discovery': (r, d) => [
    [r.accounts![0]!.phone_discovery, (d.privacySettings as Json).phoneDiscovery],
  ],
  'accounts.last_seen_visibility': (r, d) => [
    [r.accounts![0]!.last_seen_visibility, (d.privacySettings as Json).lastSeenVisibility],
  ],
  'accounts.self_destruct_months': (r, d) => [
    [r.accounts![0]!.self_destruct_months, (d.privacySettings as Json).selfDestructMonths],
  ],
  'policy_acceptances.version': (r, d) =>
    r.policy_acceptances!.map((row, i) => [row.version, (d.policyAcceptances as Json[])[i]?.version]),
  'policy_acceptances.accepted_at': (r, d) =>
    r.policy_acceptances!.map((row, i) => [
      iso(row.accepted_at),
      (d.policyAcceptances as Json[])[i]?.acceptedAt,
    ]),
  'devices.name': (r, d) =>
    r.devices!.map((row) => [row.name, (d.devices as Json[]).find((x) => x.deviceId === row.id)?.name]),
  'devices.last_seen_at': (r, d) =>
    r.devices!.map((row) => [
      iso(row.last_seen_at),
      (d.devices as Json[]).find((x) => x.deviceId === row.id)?.lastSeenAt,
    ]),
  'connections.ip': (r, d) => r.connections!.map((row) => [row.ip, record(d, row)?.ip]),
  'connections.first_seen': (r, d) =>
    r.connections!.map((row) => [iso(row.first_seen), record(d, row)?.firstSeen]),
  'connections.last_seen': (r, d) =>
    r.connections!.map((row) => [iso(row.last_seen), record(d, row)?.lastSeen]),
  'reports.reporter_account_id': (r, d) =>
    r.reports!.map((row) => [row.reporter_account_id, (d.account as Json).accountId]),
  'reports.reported_account_id': (r, d) =>
    r.reports!.map((row) => [row.reported_account_id, filed(d, row)?.reportedAccountId]),
  'reports.reason': (r, d) => r.reports!.map((row) => [row.reason, filed(d, row)?.reason]),
  'groups.title': (r, d) =>
    r.groups!.map((row) => [row.title, (d.chats as Json[]).find((x) => x.chatId === row.id)?.title]),
  'media_blobs.uploader_account_id': (r, d) =>
    r.media_blobs!.map((row) => [row.uploader_account_id, (d.account as Json).accountId]),
  'media_blobs.size': (r, d) =>
    r.media_blobs!.map((row) => [
      row.size,
      (d.mediaUploads as Json[]).find((x) => x.blobId === row.id)?.bytes,
    ]),
  'media_blobs.created_at': (r, d) =>
    r.media_blobs!.map((row) => [
      iso(row.created_at),
      (d.mediaUploads as Json[]).find((x) => x.blobId === row.id)?.uploadedAt,
    ]),
  'media_blob_chats.granted_by_account_id': (r, d) =>
    r.media_blob_chats!.map((row) => [row.granted_by_account_id, (d.account as Json).accountId]),
  'media_blob_chats.granted_at': (r, d) =>
    r.media_blob_chats!.map((row) => [
      iso(row.granted_at),
      (d.mediaForwards as Json[]).find((x) => x.blobId === row.blob_id && x.chatId === row.group_id)
        ?.forwardedAt,
    ]),
  'accounts.group_add': (r, d) => [[r.accounts![0]!.group_add, (d.privacySettings as Json).groupAdd]],
  'group_members.consent': (r, d) =>
    r.group_members!.map((row) => [
      row.consent === 'pending' ? 'request' : row.consent,
      (d.chats as Json[]).find((x) => x.chatId === row.group_id)?.consent,
    ]),
  'blocks.blocked_id': (r, d) =>
    r.blocks!.map((row) => [
      row.blocked_id,
      (d.blocks as Json[]).find((x) => x.accountId === row.blocked_id)?.accountId,
    ]),
  'blocks.created_at': (r, d) =>
    r.blocks!.map((row) => [
      iso(row.created_at),
      (d.blocks as Json[]).find((x) => x.accountId === row.blocked_id)?.blockedAt,
    ]),
  'group_invitations.account_id': (r, d) => [
    ...r.invitations_to!.map((row) => [row.account_id, (d.account as Json).accountId] as [unknown, unknown]),
    ...r.invitations_from!.map(
      (row) =>
        [
          row.account_id,
          (d.invitationsSent as Json[]).find((x) => x.chatId === row.group_id)?.toAccountId,
        ] as [unknown, unknown],
    ),
  ],
  'group_invitations.inviter_id': (r, d) => [
    ...r.invitations_to!.map(
      (row) =>
        [row.inviter_id, (d.invitations as Json[]).find((x) => x.chatId === row.group_id)?.fromAccountId] as [
          unknown,
          unknown,
        ],
    ),
    ...r.invitations_from!.map(
      (row) => [row.inviter_id, (d.account as Json).accountId] as [unknown, unknown],
    ),
  ],
  'group_invitations.created_at': (r, d) => [
    ...r.invitations_to!.map(
      (row) =>
        [
          iso(row.created_at),
          (d.invitations as Json[]).find((x) => x.chatId === row.group_id)?.invitedAt,
        ] as [unknown, unknown],
    ),
    ...r.invitations_from!.map(
      (row) =>
        [
          iso(row.created_at),
          (d.invitationsSent as Json[]).find((x) => x.chatId === row.group_id)?.invitedAt,
        ] as [unknown, unknown],
    ),
  ],
  // Sticker packs the account owns (issue 16).
  'sticker_packs.owner_account_id': (r, d) =>
    r.sticker_packs!.map((row) => [
      row.owner_account_id,
      (d.stickerPacks as Json[]).some((x) => x.shortName === row.short_name)
        ? (d.account as Json).accountId
        : null,
    ]),
  'sticker_packs.created_at': (r, d) =>
    r.sticker_packs!.map((row) => [
      iso(row.created_at),
      (d.stickerPacks as Json[]).find((x) => x.shortName === row.short_name)?.createdAt,
    ]),
  'stickers.created_at': (r, d) =>
    r.stickers!.map((row) => [
      iso(row.created_at),
      ((d.stickerPacks as Json[]).flatMap((x) => x.stickers as Json[]) as Json[]).find(
        (x) => x.sha256 === row.content_hash && x.index === row.idx,
      )?.addedAt,
    ]),
  // Channels (issue 16): owned, administered, subscribed.
  'channels.owner_account_id': (r, d) =>
    r.channels!.map((row) => [
      row.owner_account_id,
      (d.channelsOwned as Json[]).some((x) => x.channelId === row.id) ? (d.account as Json).accountId : null,
    ]),
  'channel_admins.account_id': (r, d) =>
    r.channel_admins!.map((row) => [
      row.account_id,
      (d.channelsAdministered as Json[]).some((x) => x.channelId === row.channel_id)
        ? (d.account as Json).accountId
        : null,
    ]),
  'channel_admins.added_at': (r, d) =>
    r.channel_admins!.map((row) => [
      iso(row.added_at),
      (d.channelsAdministered as Json[]).find((x) => x.channelId === row.channel_id)?.adminSince,
    ]),
  'channel_subscriptions.account_id': (r, d) =>
    r.channel_subscriptions!.map((row) => [
      row.account_id,
      (d.channelSubscriptions as Json[]).some((x) => x.channelId === row.channel_id)
        ? (d.account as Json).accountId
        : null,
    ]),
  'channel_subscriptions.channel_id': (r, d) =>
    r.channel_subscriptions!.map((row) => [
      row.channel_id,
      (d.channelSubscriptions as Json[]).find((x) => x.channelId === row.channel_id)?.channelId,
    ]),
  'channel_subscriptions.cursor': (r, d) =>
    r.channel_subscriptions!.map((row) => [
      row.cursor,
      (d.channelSubscriptions as Json[]).find((x) => x.channelId === row.channel_id)?.readUpTo,
    ]),
  'channel_subscriptions.subscribed_at': (r, d) =>
    r.channel_subscriptions!.map((row) => [
      iso(row.subscribed_at),
      (d.channelSubscriptions as Json[]).find((x) => x.channelId === row.channel_id)?.subscribedAt,
    ]),
};

/** Personal columns that are not part of a person's export, and why. */
const NOT_EXPORTED: Record<string, string> = {
  'auth_codes.phone': 'a pending code, kept minutes; the number is accounts.phone',
  'rate_limits.key':
    'an anti-abuse window, kept at most an hour (consent limits: a day); holds an address, a hash of a number, or an account id (deleted with the account)',
  'legal_cases.request': 'legal-desk records are not the person’s records (non-disclosure orders)',
  'legal_cases.decision': 'legal-desk records',
  'legal_cases.package': 'legal-desk records',
  'legal_cases.decline_reason': 'legal-desk records',
  'legal_documents.content': 'legal-desk records',
  'legal_holds.phone': 'exists only after the account is erased',
  'legal_holds.ip_records': 'exists only after the account is erased',
  'desk_accounts.username': 'staff and authorities, not user accounts',
  'desk_accounts.display_name': 'staff and authorities, not user accounts',
  'desk_audit.ip': 'staff and authorities, not user accounts',
  'account_suspensions.state':
    'a proposal is staff work in progress; a suspension in force is in the export (`suspension`), once the person can sign in to ask for one',
  'account_suspensions.suspended_at': 'as account_suspensions.state',
  'channel_posts.author_account_id':
    "which admin wrote a public post: the channel's record (the post is public content, docs/legal-requests.md), never shown to subscribers; emptied when the account is erased",
  'channel_invites.created_by':
    "which admin made an invite link (only the link's hash is stored): the channel's record; emptied when the account is erased",
};

describe('the export, checked against the data inventory', () => {
  it('holds every personal and disclosable field the server has of the account, and nothing of another', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'courier-export-inventory-'));
    const sqlitePath = join(dir, 'courier.db');
    const server = await startTestServer({ sqlitePath });
    try {
      const [me, other] = await Promise.all([server.register(nextPhone()), server.register(nextPhone())]);
      await server.login(me.phone, 'second phone');
      await me.http.setUsername('Inventory_Me');
      await me.http.setDisplayName('Inventory Person');
      await me.http.updatePrivacySettings({
        phoneVisibility: 'nobody',
        selfDestructMonths: 3,
        groupAdd: 'nobody',
      });
      await other.http.setUsername('inventory_other');
      await other.http.setDisplayName('Somebody Else');
      const now = Date.now();
      await server.app.storage.connections.record([
        { deviceId: me.deviceId, accountId: me.accountId, ip: '198.51.100.61', at: now - 5 * HOUR },
        { deviceId: me.deviceId, accountId: me.accountId, ip: '198.51.100.61', at: now - HOUR },
        { deviceId: me.deviceId, accountId: me.accountId, ip: '2001:db8::61', at: now },
        { deviceId: other.deviceId, accountId: other.accountId, ip: '203.0.113.62', at: now },
      ]);
      await server.app.storage.devices.touchLastSeen([me.deviceId], now);
      await server.app.storage.accounts.touchLastSeenDay([me.accountId], now - (now % (24 * HOUR)));
      const club = await me.http.createGroup('Inventory club', [other.accountId]);
      // A file sent to the club (issue 14): its blob record is the account's too.
      await uploadEncryptedFile(
        { baseUrl: server.url, token: me.token },
        club.groupId,
        bytesSource(new Uint8Array(5000)),
      );
      const theirs = await uploadEncryptedFile(
        { baseUrl: server.url, token: other.token },
        club.groupId,
        bytesSource(new Uint8Array(7000)),
      );
      await other.http.createGroup('Not my group', []);
      const direct = await me.http.openDirect(other.accountId);
      // I forward their file to our direct chat: the grant is mine (issue 14).
      await me.http.call('POST', `/v1/media/${theirs.blobId}/chats`, { chatId: direct.groupId });
      // A report I filed about the other person, forwarding one of their messages (issue 12).
      await me.http.fileReport({
        chatId: direct.groupId,
        reason: 'spam',
        messages: [{ senderAccountId: other.accountId, sentAtMs: now, text: 'buy now' }],
      });
      await other.http.fileReport({
        chatId: direct.groupId,
        reason: 'abuse',
        comment: 'not mine to see',
        messages: [],
      });
      // Consent records: an invitation to me, one from me, a block (with people other than `other`).
      const [third, blocked] = await Promise.all([
        server.register(nextPhone()),
        server.register(nextPhone()),
      ]);
      await third.http.updatePrivacySettings({ groupAdd: 'nobody' });
      await third.http.createGroup('Third party', [me.accountId]);
      await me.http.createGroup('Asking third', [third.accountId]);
      await me.http.block(blocked.accountId);
      // A sticker pack of mine with one sticker, and one of someone else's (issue 16).
      await new StickerApi(me.http).createPack('inventory_pack', 'Mine');
      await new StickerApi(me.http).upload('inventory_pack', await stillPng(512, 256), 'image/png', '🧾');
      await new StickerApi(other.http).createPack('not_my_pack', 'Theirs');

      // Channels (issue 16): one of mine with a post and an invite link; someone else's that I
      // administer and subscribe to.
      const myChannels = new ChannelClient(me.http, new MemoryChannelKeyring());
      const theirChannels = new ChannelClient(other.http, new MemoryChannelKeyring());
      const myChannel = await myChannels.create('inventory_news', 'Mine', 'private');
      await myChannels.post(myChannel.channelId, { v: 1, type: 'text', text: 'hello', sentAtMs: now });
      await myChannels.createInvite(myChannel.channelId);
      const theirChannel = await theirChannels.create('inventory_theirs', 'Theirs', 'public');
      await theirChannels.setAdmin(theirChannel.channelId, me.accountId, true);
      await myChannels.subscribe({ name: theirChannel.name });

      const zip = unzipSync(await me.http.exportData());
      const data = JSON.parse(strFromU8(zip['account.json']!)) as Json;

      const db = new Database(sqlitePath, { readonly: true });
      const rows: Record<string, Json[]> = {
        accounts: db.prepare('SELECT * FROM accounts WHERE id = ?').all(me.accountId) as Json[],
        policy_acceptances: db
          .prepare('SELECT * FROM policy_acceptances WHERE account_id = ? ORDER BY accepted_at')
          .all(me.accountId) as Json[],
        devices: db.prepare('SELECT * FROM devices WHERE account_id = ?').all(me.accountId) as Json[],
        connections: db.prepare('SELECT * FROM connections WHERE account_id = ?').all(me.accountId) as Json[],
        reports: db
          .prepare('SELECT * FROM reports WHERE reporter_account_id = ?')
          .all(me.accountId) as Json[],
        media_blobs: db
          .prepare('SELECT * FROM media_blobs WHERE uploader_account_id = ?')
          .all(me.accountId) as Json[],
        media_blob_chats: db
          .prepare('SELECT * FROM media_blob_chats WHERE granted_by_account_id = ?')
          .all(me.accountId) as Json[],
        groups: db
          .prepare(
            'SELECT g.* FROM groups g JOIN group_members m ON m.group_id = g.id WHERE m.account_id = ?',
          )
          .all(me.accountId) as Json[],
        group_members: db
          .prepare('SELECT * FROM group_members WHERE account_id = ?')
          .all(me.accountId) as Json[],
        blocks: db.prepare('SELECT * FROM blocks WHERE blocker_id = ?').all(me.accountId) as Json[],
        invitations_to: db
          .prepare('SELECT * FROM group_invitations WHERE account_id = ?')
          .all(me.accountId) as Json[],
        sticker_packs: db
          .prepare('SELECT * FROM sticker_packs WHERE owner_account_id = ?')
          .all(me.accountId) as Json[],
        stickers: db
          .prepare(
            'SELECT s.* FROM stickers s JOIN sticker_packs p ON p.id = s.pack_id WHERE p.owner_account_id = ?',
          )
          .all(me.accountId) as Json[],
        invitations_from: db
          .prepare('SELECT * FROM group_invitations WHERE inviter_id = ?')
          .all(me.accountId) as Json[],
        channels: db.prepare('SELECT * FROM channels WHERE owner_account_id = ?').all(me.accountId) as Json[],
        channel_admins: db
          .prepare('SELECT * FROM channel_admins WHERE account_id = ?')
          .all(me.accountId) as Json[],
        channel_subscriptions: db
          .prepare('SELECT * FROM channel_subscriptions WHERE account_id = ?')
          .all(me.accountId) as Json[],
      };
      const otherValues = Object.values(
        db.prepare('SELECT * FROM accounts WHERE id = ?').get(other.accountId) as Json,
      ).filter((v) => typeof v === 'string' && v.length > 8 && !/^(everybody|contacts|nobody)$/.test(v));
      db.close();
      // Every table family of the account has something in it, so no check below passes empty.
      for (const [table, list] of Object.entries(rows)) expect(list.length, table).toBeGreaterThan(0);
      expect(rows.devices).toHaveLength(2);
      expect(rows.connections!.map((c) => c.ip)).toEqual(
        expect.arrayContaining(['198.51.100.61', '2001:db8::61']),
      );
      expect(rows.groups).toHaveLength(3);

      const personal = [...inventory()]
        .filter(([, cls]) => cls === 'personal' || cls === 'disclosable')
        .map(([column]) => column);
      // Every personal column is either exported or listed above with its reason; nothing else.
      expect(personal.filter((c) => !(c in EXPORTED) && !(c in NOT_EXPORTED))).toEqual([]);
      expect(
        [...Object.keys(EXPORTED), ...Object.keys(NOT_EXPORTED)].filter((c) => !personal.includes(c)),
      ).toEqual([]);
      for (const column of Object.keys(EXPORTED)) {
        const pairs = EXPORTED[column]!(rows, data);
        expect(pairs.length, column).toBeGreaterThan(0);
        for (const [stored, exported] of pairs) {
          expect(stored, `${column} is stored`).not.toBeNull();
          expect(exported, `${column} in the export`).toEqual(stored);
        }
      }
      // Nothing of the other account: not its number, names, id-bearing values, IPs or its own group,
      // nor the report it filed about me. The one exception: the reports I filed name the account I
      // reported, and the sender of each message I forwarded (its account id, nothing else of it).
      const { reportsFiled, ...rest } = data;
      const text = `${JSON.stringify(rest)}${strFromU8(zip['index.html']!)}`;
      for (const value of [...otherValues, '203.0.113.62', other.deviceId, 'Not my group', 'not mine to see'])
        expect(text.includes(String(value)), `export holds ${value}`).toBe(false);
      const mine = JSON.stringify(reportsFiled);
      expect(mine).toContain(other.accountId);
      for (const value of [...otherValues.filter((v) => v !== other.accountId), 'not mine to see'])
        expect(mine.includes(String(value)), `reportsFiled holds ${value}`).toBe(false);
    } finally {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

const DOC = new TextEncoder().encode('%PDF-1.7 the court order');

describe('erasure under a legal hold', () => {
  it('leaves the phone number and the covered IP records in the hold and nowhere else; nothing else of the account', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'courier-erasure-hold-'));
    const sqlitePath = join(dir, 'courier.db');
    const clock = new unsafeTestingClock(Date.UTC(2026, 7, 1));
    const server = await startTestServer({ sqlitePath, clock });
    try {
      const suspect = await server.register(nextPhone());
      const friend = await server.register(nextPhone());
      await suspect.http.setUsername('held_suspect');
      await suspect.http.setDisplayName('Held Person');
      await server.app.storage.connections.record([
        {
          deviceId: suspect.deviceId,
          accountId: suspect.accountId,
          ip: '198.51.100.71',
          at: Date.UTC(2026, 6, 3),
        },
        // Outside the time range the order covers: not kept.
        {
          deviceId: suspect.deviceId,
          accountId: suspect.accountId,
          ip: '198.51.100.72',
          at: Date.UTC(2026, 1, 3),
        },
      ]);
      await suspect.http.createGroup('Held group', [friend.accountId]);
      await suspect.http.startExport();
      await server.app.exports.idle();
      const { caseId } = await server.app.legal.submit(
        {
          authority: { name: 'A court', kind: 'court', country: 'DE' },
          instrument: {
            type: 'court_order',
            issuingCourt: 'A court',
            reference: 'hold-1',
            issueDate: '2026-07-20',
          },
          offence: { category: 'terrorism', confirmsSuspect: true },
          targets: [{ userId: suspect.accountId }],
          timeRange: { from: '2026-06-01', to: '2026-07-31' },
          requestedCategories: ['phone_number', 'ip_addresses'],
        },
        DOC,
        'intake-1',
      );
      expect(await suspect.http.deleteAccount(suspect.phone)).toEqual({ deleted: true, legalHold: true });
      await server.app.delivery.drain();

      const held = [suspect.phone, '198.51.100.71'];
      const gone = ['held_suspect', 'Held Person', '198.51.100.72'];
      const db = new Database(sqlitePath, { readonly: true });
      const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as {
        name: string;
      }[];
      const where = new Map<string, Set<string>>();
      for (const { name } of tables) {
        for (const row of db.prepare(`SELECT * FROM "${name}"`).all() as Json[]) {
          const cells = Object.entries(row).map(
            ([column, v]) =>
              [column, v instanceof Uint8Array ? Buffer.from(v).toString('latin1') : String(v)] as const,
          );
          for (const [column, cell] of cells) {
            for (const value of [...held, ...gone]) {
              if (cell.includes(value))
                where.set(value, (where.get(value) ?? new Set()).add(`${name}.${column}`));
            }
          }
        }
      }
      db.close();
      expect(Object.fromEntries([...where].map(([v, s]) => [v, [...s].sort()]))).toEqual({
        [suspect.phone]: ['legal_holds.phone'],
        '198.51.100.71': ['legal_holds.ip_records'],
      });
      expect(await server.app.storage.exportJobs.byAccount(suspect.accountId)).toEqual([]);

      // The case ends without a disclosure: the hold goes, and with it the last personal value.
      await server.app.legal.decline(caseId, 'approver-a', 'not needed');
      expect(await server.app.storage.legalCases.holdsForAccount(suspect.accountId)).toEqual([]);
    } finally {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('retention of codes and rate windows (injected clock)', () => {
  it('drops a code once it expired and a rate window once it ended, not before', async () => {
    const clock = new unsafeTestingClock(Date.UTC(2026, 4, 1));
    const server = await startTestServer({
      clock,
      config: { auth: { codeTtlMs: 5 * 60_000, rateWindowMs: HOUR } },
    });
    try {
      const phone = nextPhone();
      await server.app.retention.run();
      const { CourierHttp } = await import('@courier/sdk');
      const { verificationId } = await new CourierHttp(server.url).requestCode(phone);
      clock.advance(5 * 60_000 - 1);
      expect(await server.app.retention.run()).toMatchObject({ authCodes: 0, rateLimits: 0 });
      expect(await server.app.storage.authCodes.byId(verificationId)).toBeDefined();
      clock.advance(2);
      expect(await server.app.retention.run()).toMatchObject({ authCodes: 1, rateLimits: 0 });
      expect(await server.app.storage.authCodes.byId(verificationId)).toBeUndefined();
      // The windows of the number (in all, and from that address), of the global SMS budget and of
      // the address it came from end an hour after they began.
      clock.advance(HOUR);
      expect(await server.app.retention.run()).toMatchObject({ rateLimits: 4 });
    } finally {
      await server.close();
    }
  });
});

describe('courier-server purge', () => {
  it('applies every retention rule now and prints what it removed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'courier-purge-'));
    const sqlitePath = join(dir, 'courier.db');
    try {
      const server = await startTestServer({ sqlitePath });
      const user = await server.register(nextPhone());
      await server.app.storage.authCodes.put({
        id: 'purge-me',
        phone: nextPhone(),
        codeHash: 'x',
        expiresAt: 1,
        attempts: 0,
        consumedAt: null,
        createdAt: 0,
      });
      // An archive whose window ended long ago.
      await server.app.storage.exportJobs.insert({
        id: 'x_purgeMeNow0000000000a',
        accountId: user.accountId,
        state: 'done',
        progress: 100,
        createdAt: 0,
        updatedAt: 0,
        finishedAt: 0,
        file: 'x_purgeMeNow0000000000a.zip',
        bytes: 1,
        expiresAt: 1,
        error: null,
      });
      await server.close();
      const { stdout } = await promisify(execFile)(
        process.execPath,
        ['--import', 'tsx', 'packages/server/src/main.ts', 'purge'],
        {
          cwd: root,
          env: {
            ...process.env,
            COURIER_SQLITE_PATH: sqlitePath,
            COURIER_LOG_LEVEL: 'silent',
            // The server's data folder: its keys sign and certify (another key is refused).
            COURIER_DATA_DIR: dir,
          },
        },
      );
      const report = JSON.parse(stdout.trim().split('\n').at(-1)!);
      expect(Object.keys(report).sort()).toEqual(
        [
          'authCodes',
          'connectionRecords',
          'deskLoginFailures',
          'deskSessions',
          'entries',
          'exportArchives',
          'exportJobs',
          'mediaBlobs',
          'mediaUploads',
          'ratchetTrees',
          'rateLimits',
          'reports',
          'selfDestructedAccounts',
          'sessions',
        ].sort(),
      );
      expect(report).toMatchObject({ authCodes: 1, exportArchives: 1, selfDestructedAccounts: 0 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
