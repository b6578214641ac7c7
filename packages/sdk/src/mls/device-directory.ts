import { sha512 } from '@noble/hashes/sha2.js';
import {
  type DeviceCertificate,
  type DeviceCertificatesReply,
  fromBase64,
  toBase64,
  verifyDeviceCertificateAsync,
} from '@courier/protocol';
import type { CourierHttp } from '../http-client.ts';
import type { MlsStore } from './mls-store.ts';

/** A device key that is new for an account this device already knew. */
export interface KeyChange {
  accountId: string;
  deviceId: string;
  /** True when the device was known with another key (a replaced key, not an added device). */
  replaced: boolean;
}

/**
 * The devices of other accounts as the server certifies them. A member's MLS credential is accepted
 * only when it matches a certificate that verifies under the pinned certification key; every key
 * seen is remembered, so an added or replaced key is reported (`onKeyChange`), never silently taken.
 */
export class DeviceDirectory {
  private readonly certified = new Map<string, Map<string, string>>();

  constructor(
    private readonly http: CourierHttp,
    private readonly store: MlsStore,
    private readonly certificationKey: Uint8Array,
    private readonly onKeyChange: (change: KeyChange) => void,
  ) {}

  /** Fetches (once per account) the certificates of these accounts' devices. */
  async prefetch(accountIds: readonly string[]): Promise<void> {
    const missing = [...new Set(accountIds)].filter((id) => !this.certified.has(id));
    for (let i = 0; i < missing.length; i += 500) {
      const chunk = missing.slice(i, i + 500);
      const reply = await this.http.call<DeviceCertificatesReply>(
        'GET',
        `/v1/mls/devices?accountIds=${encodeURIComponent(chunk.join(','))}`,
      );
      for (const id of chunk) this.certified.set(id, new Map());
      await this.learn(reply.certificates);
    }
  }

  /** Remembers certificates that verify (e.g. those handed out with claimed key packages). */
  async learn(certificates: readonly DeviceCertificate[]): Promise<void> {
    const byAccount = new Map<string, DeviceCertificate[]>();
    // Checked together: one await for all, not one per certificate (999 for a group of 1,000).
    const valid = await Promise.all(
      certificates.map((c) => verifyDeviceCertificateAsync(this.certificationKey, c)),
    );
    for (const [i, certificate] of certificates.entries()) {
      if (!valid[i]) continue;
      const list = byAccount.get(certificate.accountId) ?? [];
      list.push(certificate);
      byAccount.set(certificate.accountId, list);
    }
    const changes = new Map<string, Record<string, string>>();
    for (const [accountId, list] of byAccount) {
      const devices = this.certified.get(accountId) ?? new Map<string, string>();
      for (const c of list) devices.set(c.deviceId, c.signaturePublicKey);
      this.certified.set(accountId, devices);
      const known = await this.store.knownKeys(accountId);
      const first = Object.keys(known).length === 0;
      let changed = false;
      for (const c of list) {
        if (known[c.deviceId] === c.signaturePublicKey) continue;
        if (!first) this.onKeyChange({ accountId, deviceId: c.deviceId, replaced: c.deviceId in known });
        known[c.deviceId] = c.signaturePublicKey;
        changed = true;
      }
      if (changed) changes.set(accountId, known);
    }
    // Every account's new keys in one write (a member joining a group of 1,000 learns 999 at once).
    await this.store.setKnownKeys(changes);
  }

  /** Whether this signature key is certified for the account's device (fetching once if unknown). */
  async isCertified(accountId: string, deviceId: string, signaturePublicKey: Uint8Array): Promise<boolean> {
    const key = toBase64(signaturePublicKey);
    if (this.certified.get(accountId)?.get(deviceId) === key) return true;
    // A device registered since the last fetch: ask again, once.
    this.certified.delete(accountId);
    await this.prefetch([accountId]);
    return this.certified.get(accountId)?.get(deviceId) === key;
  }

  /**
   * The safety number of two accounts: 60 digits from the device keys of both (as this device has
   * seen them), the same on both sides. Two people compare it out of band; it changes with any key.
   */
  async safetyNumber(me: string, other: string): Promise<string> {
    const part = async (accountId: string) => {
      const keys = await this.store.knownKeys(accountId);
      const text = [
        accountId,
        ...Object.entries(keys)
          .sort(([a], [b]) => (a < b ? -1 : 1))
          .flat(),
      ].join('\n');
      let digest = sha512(new TextEncoder().encode(text));
      for (let i = 0; i < 1023; i++) digest = sha512(digest);
      let digits = '';
      for (let i = 0; i < 30; i += 5) {
        const chunk = digest.subarray(i, i + 5).reduce((n, b) => n * 256 + b, 0);
        digits += String(chunk % 100_000).padStart(5, '0');
      }
      return digits;
    };
    const [a, b] = [await part(me), await part(other)];
    const joined = me < other ? a + b : b + a;
    return joined.match(/.{5}/g)!.join(' ');
  }
}

/** Decodes a base64 key that must be 32 bytes. */
export function decodeKey(text: string): Uint8Array | undefined {
  const bytes = fromBase64(text);
  return bytes?.length === 32 ? bytes : undefined;
}
