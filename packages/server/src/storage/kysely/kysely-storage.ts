import { type Kysely, sql } from 'kysely';
import type { Storage, Stores } from '../ports.ts';
import type { Database } from '../schema.ts';
import type { SqlDialectName } from '../sql-dialect.ts';
import { KyselyAccountStore } from './account-store.ts';
import { KyselyAuthCodeStore } from './auth-code-store.ts';
import { KyselyBlockStore } from './block-store.ts';
import { KyselyChannelInviteStore } from './channel-invite-store.ts';
import { KyselyChannelMediaStore } from './channel-media-store.ts';
import { KyselyChannelPostStore } from './channel-post-store.ts';
import { KyselyChannelStore } from './channel-store.ts';
import { KyselyChannelSubscriptionStore } from './channel-subscription-store.ts';
import { KyselyConnectionStore } from './connection-store.ts';
import { KyselyCursorStore } from './cursor-store.ts';
import { KyselyDeskStore } from './desk-store.ts';
import { KyselyDeviceStore } from './device-store.ts';
import { KyselyEntryStore } from './entry-store.ts';
import { KyselyExportJobStore } from './export-job-store.ts';
import { KyselyGroupStore } from './group-store.ts';
import { KyselyInvitationStore } from './invitation-store.ts';
import { KyselyLegalCaseStore } from './legal-case-store.ts';
import { KyselyKeyPackageStore } from './key-package-store.ts';
import { KyselyMailboxStore } from './mailbox-store.ts';
import { KyselyMediaBlobStore } from './media-blob-store.ts';
import { KyselyMlsGroupStore } from './mls-group-store.ts';
import { KyselyPolicyAcceptanceStore } from './policy-acceptance-store.ts';
import { KyselyRateLimitStore } from './rate-limit-store.ts';
import { KyselyReportStore } from './report-store.ts';
import { KyselySessionStore } from './session-store.ts';
import { KyselyStickerStore } from './sticker-store.ts';
import { KyselySuspensionStore } from './suspension-store.ts';
import { KyselyTransparencyLogStore } from './transparency-log-store.ts';

function storesOver(db: Kysely<Database>, dialect: SqlDialectName): Stores {
  return {
    accounts: new KyselyAccountStore(db),
    devices: new KyselyDeviceStore(db),
    sessions: new KyselySessionStore(db),
    authCodes: new KyselyAuthCodeStore(db),
    rateLimits: new KyselyRateLimitStore(db),
    connections: new KyselyConnectionStore(db),
    groups: new KyselyGroupStore(db, dialect),
    blocks: new KyselyBlockStore(db),
    invitations: new KyselyInvitationStore(db),
    entries: new KyselyEntryStore(db),
    cursors: new KyselyCursorStore(db),
    mailbox: new KyselyMailboxStore(db),
    policyAcceptances: new KyselyPolicyAcceptanceStore(db),
    transparencyLog: new KyselyTransparencyLogStore(db, dialect),
    legalCases: new KyselyLegalCaseStore(db),
    desk: new KyselyDeskStore(db),
    keyPackages: new KyselyKeyPackageStore(db),
    mlsGroups: new KyselyMlsGroupStore(db),
    exportJobs: new KyselyExportJobStore(db),
    reports: new KyselyReportStore(db),
    suspensions: new KyselySuspensionStore(db),
    mediaBlobs: new KyselyMediaBlobStore(db),
    stickers: new KyselyStickerStore(db),
    channels: new KyselyChannelStore(db),
    channelPosts: new KyselyChannelPostStore(db),
    channelSubscriptions: new KyselyChannelSubscriptionStore(db),
    channelInvites: new KyselyChannelInviteStore(db),
    channelMedia: new KyselyChannelMediaStore(db),
  };
}

/** The stores of every SQL adapter: the same queries over whichever Kysely dialect is given. */
export function kyselyStorage(
  db: Kysely<Database>,
  dialect: SqlDialectName,
  onClose: () => Promise<void>,
  /** Replaces some methods of a transaction's stores with a faster path of the same meaning. */
  inTransaction: (stores: Stores, trx: Kysely<Database>) => Stores = (stores) => stores,
): Storage {
  return {
    ...storesOver(db, dialect),
    dialect,
    transaction: (work) =>
      db.transaction().execute((trx) => work(inTransaction(storesOver(trx, dialect), trx))),
    ping: async () => {
      await sql`SELECT 1`.execute(db);
    },
    probeWrite: async () => {
      await db.transaction().execute(async (trx) => {
        await trx.updateTable('accounts').set({ id: sql`id` }).where(sql<boolean>`1 = 0`).execute();
      });
    },
    close: onClose,
  };
}
