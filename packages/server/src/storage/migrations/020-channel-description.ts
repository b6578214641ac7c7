import type { Kysely } from 'kysely';
import type { SqlDialectName } from '../sql-dialect.ts';

/**
 * A channel's description (issue 16): what the channel says of itself beside its title, shown on
 * its page and in the preview of an invite link before joining. Empty for channels made before.
 */
export function channelDescriptionMigration(_dialect: SqlDialectName) {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .alterTable('channels')
        .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
        .execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('channels').dropColumn('description').execute();
    },
  };
}
