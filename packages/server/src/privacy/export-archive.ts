import { CourierError } from '@courier/protocol';
import { strToU8, zipSync } from 'fflate';
import type { Storage } from '../storage/ports.ts';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** Reports how far an export is, 0 to 100 (the job runner stores it for the person to poll). */
export type ExportProgress = (percent: number) => Promise<void>;

/**
 * Collects every record the server holds about one account (see docs/data-inventory.md), one
 * table family at a time, reporting progress after each.
 */
export async function collectAccountData(
  storage: Storage,
  accountId: string,
  now: number,
  currentPolicy: string,
  onProgress: ExportProgress = async () => {},
) {
  const steps = 16;
  let done = 0;
  const step = async <T>(read: Promise<T>): Promise<T> => {
    const value = await read;
    done += 1;
    await onProgress(Math.floor((done / steps) * 90));
    return value;
  };
  const account = await step(storage.accounts.byId(accountId));
  if (!account) throw new CourierError('AUTH_INVALID_TOKEN');
  const devices = await step(storage.devices.byAccount(accountId));
  const sessions = await step(storage.sessions.byAccount(accountId));
  const connections = await step(storage.connections.detailsByAccount(accountId));
  const groups = await step(storage.groups.forAccount(accountId));
  const acceptances = await step(storage.policyAcceptances.accepted(accountId));
  // Reports this account filed (issue 12). Reports naming it are not listed: they would expose
  // who reported it (docs/privacy.md, "What a report reveals, to whom"); a suspension is.
  const filed = await step(storage.reports.byReporter(accountId));
  const suspension = await step(storage.suspensions.byAccount(accountId));
  const mediaBlobs = await step(storage.mediaBlobs.byAccount(accountId));
  const mediaGrants = await step(storage.mediaBlobs.grantsBy(accountId));
  const blocks = await step(storage.blocks.byBlocker(accountId));
  const invitations = await step(storage.invitations.forAccount(accountId));
  const invitationsSent = await step(storage.invitations.sentBy(accountId));
  const stickerPacks = await step(storage.stickers.packsOf(accountId));
  const stickersByPack = new Map<string, Awaited<ReturnType<Storage['stickers']['stickersOf']>>>();
  for (const pack of stickerPacks) stickersByPack.set(pack.id, await storage.stickers.stickersOf(pack.id));
  // Channels (issue 16): its subscriptions (with how far it read), the channels it owns and the
  // ones it administers. The posts are the channels' public content, not listed here.
  const subscriptions = await step(storage.channelSubscriptions.byAccount(accountId));
  const owned = await step(storage.channels.ownedBy(accountId));
  const adminOf = await step(storage.channels.adminOf(accountId));
  const adminSince = new Map<string, number>();
  for (const id of adminOf) {
    const mine = (await storage.channels.admins(id)).find((a) => a.accountId === accountId);
    if (mine) adminSince.set(id, mine.addedAt);
  }
  const channelNames = new Map(
    (await storage.channels.byIds([...new Set([...subscriptions.map((s) => s.channelId), ...adminOf])])).map(
      (c) => [c.id, c.name],
    ),
  );
  return {
    exportedAt: iso(now),
    note:
      'This is everything the Courier server holds about this account. Messages are end-to-end encrypted: ' +
      'the server never had them in readable form; your app adds the conversations it holds on your device.',
    account: {
      accountId: account.id,
      phone: account.phone,
      username: account.username,
      displayName: account.displayName,
      createdAt: iso(account.createdAt),
      lastSeenDay: iso(account.lastSeenDay),
    },
    privacySettings: account.privacy,
    policyAcceptances: acceptances.map((a) => ({ version: a.version, acceptedAt: iso(a.acceptedAt) })),
    currentPolicy,
    devices: devices.map((d) => ({
      deviceId: d.id,
      name: d.name,
      createdAt: iso(d.createdAt),
      lastSeenAt: iso(d.lastSeenAt),
    })),
    sessions: sessions.map((s) => ({
      deviceId: s.deviceId,
      createdAt: iso(s.createdAt),
      lastUsedAt: iso(s.lastUsedAt),
    })),
    connectionRecords: connections.map((c) => ({
      deviceId: c.deviceId,
      ip: c.ip,
      firstSeen: iso(c.firstSeen),
      lastSeen: iso(c.at),
    })),
    reportsFiled: filed.map((r) => ({
      reportId: r.id,
      chatId: r.chatId,
      reportedAccountId: r.reportedAccountId,
      reason: r.reason,
      comment: r.comment,
      messages: r.messages,
      receivedAt: iso(r.createdAt),
      state: r.state,
    })),
    suspension:
      suspension && (suspension.state === 'suspended' || suspension.state === 'lift_proposed')
        ? {
            state: 'suspended',
            since: iso(suspension.suspendedAt),
            liftProposed: suspension.state === 'lift_proposed',
          }
        : null,
    chats: groups.map((g) => ({
      chatId: g.id,
      kind: g.kind,
      title: g.title,
      role: g.role,
      // accepted; request: a direct chat someone opened that I have not accepted; declined: declined or blocked
      consent: g.consent === 'pending' ? 'request' : g.consent,
      members: g.memberCount,
      createdAt: iso(g.createdAt),
    })),
    // The server holds only ciphertext and these facts; name, type and key are in the messages.
    mediaUploads: mediaBlobs.map((b) => ({
      blobId: b.id,
      chatId: b.groupId,
      bytes: b.size,
      uploadedAt: iso(b.createdAt),
      completedAt: iso(b.completedAt),
    })),
    // Files this account forwarded: which blob it bound to which further chat, and when.
    mediaForwards: mediaGrants.map((g) => ({
      blobId: g.blobId,
      chatId: g.groupId,
      forwardedAt: iso(g.grantedAt),
    })),
    blocks: blocks.map((b) => ({ accountId: b.blockedId, blockedAt: iso(b.createdAt) })),
    invitations: invitations.map((i) => ({
      chatId: i.groupId,
      fromAccountId: i.inviterId,
      invitedAt: iso(i.createdAt),
    })),
    invitationsSent: invitationsSent.map((i) => ({
      chatId: i.groupId,
      toAccountId: i.accountId,
      invitedAt: iso(i.createdAt),
    })),
    // Public by nature (anyone with the short name sees them), but the account's own: listed here.
    stickerPacks: stickerPacks.map((p) => ({
      shortName: p.shortName,
      title: p.title,
      createdAt: iso(p.createdAt),
      stickers: (stickersByPack.get(p.id) ?? []).map((s) => ({
        index: s.index,
        emoji: s.emoji,
        sha256: s.hash,
        type: s.mime,
        width: s.width,
        height: s.height,
        frames: s.frames,
        bytes: s.bytes,
        addedAt: iso(s.createdAt),
      })),
    })),
    channelSubscriptions: subscriptions.map((s) => ({
      channelId: s.channelId,
      name: channelNames.get(s.channelId) ?? null,
      readUpTo: s.cursor,
      subscribedAt: iso(s.subscribedAt),
    })),
    channelsOwned: owned.map((c) => ({
      channelId: c.id,
      name: c.name,
      title: c.title,
      description: c.description,
      visibility: c.visibility,
      subscribers: c.subscriberCount,
      posts: c.lastSeq,
      createdAt: iso(c.createdAt),
    })),
    channelsAdministered: adminOf.map((id) => ({
      channelId: id,
      name: channelNames.get(id) ?? null,
      adminSince: adminSince.has(id) ? iso(adminSince.get(id)!) : null,
    })),
  };
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function table(title: string, rows: Record<string, unknown>[]): string {
  if (rows.length === 0) return `<h2>${escapeHtml(title)}</h2><p>None.</p>`;
  const keys = Object.keys(rows[0]!);
  const head = keys.map((k) => `<th>${escapeHtml(k)}</th>`).join('');
  const body = rows
    .map((r) => `<tr>${keys.map((k) => `<td>${escapeHtml(String(r[k] ?? ''))}</td>`).join('')}</tr>`)
    .join('');
  return `<h2>${escapeHtml(title)}</h2><table><tr>${head}</tr>${body}</table>`;
}

/** The export archive: `account.json` and a readable `index.html`. */
export async function buildExport(
  storage: Storage,
  accountId: string,
  now: number,
  currentPolicy: string,
  onProgress?: ExportProgress,
): Promise<Uint8Array> {
  const data = await collectAccountData(storage, accountId, now, currentPolicy, onProgress);
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Your Courier data</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2rem .5rem;text-align:left}</style></head><body>
<h1>Your Courier data</h1><p>Exported ${escapeHtml(data.exportedAt ?? '')}. ${escapeHtml(data.note)}</p>
${table('Account', [data.account])}
${table('Privacy settings', [data.privacySettings as unknown as Record<string, unknown>])}
${table('Privacy-policy acceptances', data.policyAcceptances)}
${table('Devices', data.devices)}
${table('Sessions', data.sessions)}
${table('Connection records (IP addresses)', data.connectionRecords)}
${table('Chats', data.chats)}
${table(
  'Reports you filed (the messages you chose to forward)',
  data.reportsFiled.map((r) => ({
    receivedAt: r.receivedAt,
    chatId: r.chatId,
    reason: r.reason,
    comment: r.comment,
    messages: r.messages.map((m) => m.text).join(' / '),
    state: r.state,
  })),
)}
${data.suspension ? table('Suspension', [data.suspension]) : ''}
${table('Media uploads (encrypted; the server has no key)', data.mediaUploads)}
${table('People you blocked', data.blocks)}
${table('Group invitations waiting for you', data.invitations)}
${table('Group invitations you sent that still wait', data.invitationsSent)}
${table(
  'Sticker packs you own (public)',
  data.stickerPacks.map((p) => ({
    shortName: p.shortName,
    title: p.title,
    createdAt: p.createdAt,
    stickers: p.stickers.map((s) => s.emoji).join(' '),
  })),
)}
${table('Channels you subscribe to', data.channelSubscriptions)}
${table('Channels you own (their posts are public)', data.channelsOwned)}
${table('Channels you are an admin of', data.channelsAdministered)}
<p>The same data, machine-readable: <code>account.json</code>.</p></body></html>`;
  return zipSync({
    'account.json': strToU8(JSON.stringify(data, null, 2)),
    'index.html': strToU8(html),
  });
}
