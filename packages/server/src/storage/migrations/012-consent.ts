import { type Kysely, sql } from 'kysely';
import type { SqlDialectName } from '../sql-dialect.ts';

/**
 * Consent before contact (issue 12): each membership says whether its person accepted the chat
 * (`accepted`), has it as a message request (`pending`) or declined it (`declined`); blocks; group
 * invitations held until the invitee accepts; and who may add an account to groups.
 *
 * Existing direct chats were opened by one person without the other: the side that did not open one
 * becomes a request (nobody who was never asked stays a "contact"). Group memberships stay accepted.
 */
export function consentMigration(_dialect: SqlDialectName) {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .alterTable('group_members')
        .addColumn('consent', 'text', (c) => c.notNull().defaultTo('accepted'))
        .execute();
      await sql`UPDATE group_members SET consent = 'pending'
        WHERE group_id IN (SELECT id FROM groups WHERE kind = 'direct')
          AND account_id <> (SELECT created_by FROM groups WHERE groups.id = group_members.group_id)`.execute(
        db,
      );
      await db.schema
        .alterTable('accounts')
        .addColumn('group_add', 'text', (c) => c.notNull().defaultTo('contacts'))
        .execute();
      await db.schema
        .createTable('blocks')
        .addColumn('blocker_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
        .addColumn('blocked_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('blocks_pk', ['blocker_id', 'blocked_id'])
        .execute();
      await db.schema.createIndex('blocks_blocked').on('blocks').column('blocked_id').execute();
      await db.schema
        .createTable('group_invitations')
        .addColumn('group_id', 'text', (c) => c.notNull().references('groups.id').onDelete('cascade'))
        .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
        .addColumn('inviter_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('group_invitations_pk', ['group_id', 'account_id'])
        .execute();
      await db.schema
        .createIndex('group_invitations_account')
        .on('group_invitations')
        .column('account_id')
        .execute();
      await db.schema
        .createIndex('group_invitations_inviter')
        .on('group_invitations')
        .column('inviter_id')
        .execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable('group_invitations').execute();
      await db.schema.dropTable('blocks').execute();
      await db.schema.alterTable('accounts').dropColumn('group_add').execute();
      await db.schema.alterTable('group_members').dropColumn('consent').execute();
    },
  };
}
