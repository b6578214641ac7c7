import type { Kysely, Selectable } from 'kysely';
import type { DeviceCredentialRow, KeyPackageRow, KeyPackageStore } from '../ports.ts';
import type { Database, DeviceCredentialsTable, KeyPackagesTable } from '../schema.ts';

const bytes = (b: Uint8Array) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);

const credential = (r: Selectable<DeviceCredentialsTable>): DeviceCredentialRow => ({
  deviceId: r.device_id,
  accountId: r.account_id,
  signatureKey: bytes(r.signature_key),
  certificate: r.certificate,
  createdAt: Number(r.created_at),
});

const keyPackage = (r: Selectable<KeyPackagesTable>): KeyPackageRow => ({
  deviceId: r.device_id,
  ref: r.ref,
  package: bytes(r.package),
  lastResort: Number(r.last_resort) === 1,
  createdAt: Number(r.created_at),
});

const CHUNK = 400;

export class KyselyKeyPackageStore implements KeyPackageStore {
  constructor(private readonly db: Kysely<Database>) {}

  async insertCredential(row: DeviceCredentialRow): Promise<void> {
    await this.db
      .insertInto('device_credentials')
      .values({
        device_id: row.deviceId,
        account_id: row.accountId,
        signature_key: row.signatureKey,
        certificate: row.certificate,
        created_at: row.createdAt,
      })
      .execute();
  }

  async credential(deviceId: string): Promise<DeviceCredentialRow | undefined> {
    const row = await this.db
      .selectFrom('device_credentials')
      .selectAll()
      .where('device_id', '=', deviceId)
      .executeTakeFirst();
    return row && credential(row);
  }

  async credentialsOfAccounts(accountIds: readonly string[]): Promise<DeviceCredentialRow[]> {
    const rows: DeviceCredentialRow[] = [];
    for (let i = 0; i < accountIds.length; i += CHUNK) {
      const chunk = accountIds.slice(i, i + CHUNK);
      if (chunk.length === 0) continue;
      const found = await this.db
        .selectFrom('device_credentials')
        .selectAll()
        .where('account_id', 'in', chunk)
        .orderBy('account_id')
        .orderBy('device_id')
        .execute();
      rows.push(...found.map(credential));
    }
    return rows;
  }

  async publish(
    deviceId: string,
    oneTime: readonly KeyPackageRow[],
    lastResort: KeyPackageRow | undefined,
  ): Promise<void> {
    const values = (r: KeyPackageRow) => ({
      device_id: deviceId,
      ref: r.ref,
      package: r.package,
      last_resort: r.lastResort ? 1 : 0,
      created_at: r.createdAt,
    });
    if (oneTime.length > 0) {
      await this.db
        .insertInto('key_packages')
        .values(oneTime.map(values))
        .onConflict((oc) => oc.columns(['device_id', 'ref']).doNothing())
        .execute();
    }
    if (lastResort) {
      await this.db
        .deleteFrom('key_packages')
        .where('device_id', '=', deviceId)
        .where('last_resort', '=', 1)
        .execute();
      await this.db
        .insertInto('key_packages')
        .values(values(lastResort))
        .onConflict((oc) => oc.columns(['device_id', 'ref']).doNothing())
        .execute();
    }
  }

  async stock(deviceId: string): Promise<{ oneTime: number; lastResort: boolean }> {
    const rows = await this.db
      .selectFrom('key_packages')
      .select(['last_resort', (eb) => eb.fn.countAll<number>().as('n')])
      .where('device_id', '=', deviceId)
      .groupBy('last_resort')
      .execute();
    const count = (flag: number) => Number(rows.find((r) => Number(r.last_resort) === flag)?.n ?? 0);
    return { oneTime: count(0), lastResort: count(1) > 0 };
  }

  async claim(
    deviceId: string,
    options: { lastResortOnly?: boolean } = {},
  ): Promise<KeyPackageRow | undefined> {
    const oneTime = options.lastResortOnly
      ? undefined
      : await this.db
          .selectFrom('key_packages')
          .selectAll()
          .where('device_id', '=', deviceId)
          .where('last_resort', '=', 0)
          .orderBy('created_at')
          .orderBy('ref')
          .limit(1)
          .executeTakeFirst();
    if (oneTime) {
      const deleted = await this.db
        .deleteFrom('key_packages')
        .where('device_id', '=', deviceId)
        .where('ref', '=', oneTime.ref)
        .executeTakeFirst();
      // Another claim took it first: try the next one.
      if (Number(deleted.numDeletedRows) === 0) return this.claim(deviceId);
      return keyPackage(oneTime);
    }
    const last = await this.db
      .selectFrom('key_packages')
      .selectAll()
      .where('device_id', '=', deviceId)
      .where('last_resort', '=', 1)
      .executeTakeFirst();
    return last && keyPackage(last);
  }
}
