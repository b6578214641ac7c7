/**
 * The HTTP contract of the MLS delivery service (DESIGN §5): device credentials and their server
 * certification, key packages, commits, and the public ratchet tree. Bytes travel as base64.
 */
import { ed25519 } from '@noble/curves/ed25519.js';

/** PUT /v1/me/device/credential: the device's MLS signature public key (set once per device). */
export interface RegisterCredentialBody {
  signaturePublicKey: string;
}

/**
 * The server's certification that a signature key belongs to an account's device. Clients accept a
 * group member only when its credential matches a certificate that verifies under the server's
 * certification key (GET /v1/mls/server-key), which they pin on first use.
 */
export interface DeviceCertificate {
  accountId: string;
  deviceId: string;
  /** base64 */
  signaturePublicKey: string;
  issuedAtMs: number;
  /** base64 Ed25519 signature over `deviceCertificateMessage(...)` */
  signature: string;
}

/** GET /v1/mls/server-key */
export interface ServerKeyReply {
  /** base64 Ed25519 public key that signs device certificates */
  certificationKey: string;
}

/** POST /v1/me/device/key-packages */
export interface UploadKeyPackagesBody {
  /** base64 MLSMessage key packages (one-time) */
  keyPackages: string[];
  /** base64 MLSMessage key package carrying the last_resort extension; replaces the previous one */
  lastResort?: string;
}

/** GET /v1/me/device/key-packages and the reply of the upload */
export interface KeyPackageStockReply {
  oneTime: number;
  lastResort: boolean;
}

/** POST /v1/mls/key-packages/claim */
export interface ClaimKeyPackagesBody {
  accountIds: string[];
  /** Only these devices of those accounts (e.g. the ones a group is missing); all when absent. */
  deviceIds?: string[];
}

export interface ClaimedKeyPackage {
  accountId: string;
  deviceId: string;
  /** base64 MLSMessage */
  keyPackage: string;
  lastResort: boolean;
  certificate: DeviceCertificate;
}

/** The reply of a claim: one key package per device of each account that has a credential. */
export interface ClaimKeyPackagesReply {
  keyPackages: ClaimedKeyPackage[];
}

/** GET /v1/mls/devices?accountIds=a,b */
export interface DeviceCertificatesReply {
  certificates: DeviceCertificate[];
}

/** One occupied leaf of a group's MLS tree, as the delivery service tracks it. */
export interface MlsLeafView {
  leafIndex: number;
  accountId: string;
  deviceId: string;
}

/** GET /v1/groups/:groupId/mls */
export interface MlsGroupView {
  groupId: string;
  epoch: number;
  leaves: MlsLeafView[];
  /** Devices of accounts on the roster that are not in the tree yet (they need an Add). */
  missing: { accountId: string; deviceId: string }[];
  /** Leaves whose account left the roster or whose device is gone (they need a Remove). */
  stale: number[];
}

/** POST /v1/groups/:groupId/mls/commits */
export interface SubmitCommitBody {
  clientMsgId: string;
  /** base64 MLSMessage (PublicMessage commit) */
  commit: string;
  /** base64 MLSMessage Welcome, when the commit adds devices */
  welcome?: string;
  /** base64 ratchet tree of the new epoch, when the commit adds devices (served to the joiners) */
  ratchetTree?: string;
}

export interface SubmitCommitReply {
  seq: number;
  epoch: number;
  duplicate: boolean;
}

/** GET /v1/groups/:groupId/mls/tree?epoch=N */
export interface RatchetTreeReply {
  epoch: number;
  /** base64 */
  ratchetTree: string;
}

const encoder = new TextEncoder();

/** The bytes a device certificate signs (domain-separated, one field per line). */
export function deviceCertificateMessage(
  certificate: Pick<DeviceCertificate, 'accountId' | 'deviceId' | 'signaturePublicKey' | 'issuedAtMs'>,
): Uint8Array {
  return encoder.encode(
    [
      'courier-device-certificate-v1',
      certificate.accountId,
      certificate.deviceId,
      certificate.signaturePublicKey,
      String(certificate.issuedAtMs),
    ].join('\n'),
  );
}

export function toBase64(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000)
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

/** Decodes strict base64; undefined when the text is not base64. */
export function fromBase64(text: string): Uint8Array | undefined {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) return undefined;
  try {
    const binary = atob(text);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes;
  } catch {
    return undefined;
  }
}

/** Signs a device certificate with the server's certification key (32-byte Ed25519 secret). */
export function signDeviceCertificate(
  secretKey: Uint8Array,
  fields: Pick<DeviceCertificate, 'accountId' | 'deviceId' | 'signaturePublicKey' | 'issuedAtMs'>,
): DeviceCertificate {
  const signature = ed25519.sign(deviceCertificateMessage(fields), secretKey);
  return { ...fields, signature: toBase64(signature) };
}

/**
 * Whether the certificate verifies under the certification key (never throws), by WebCrypto's
 * Ed25519 where the platform has it (Node, current browsers): the pure-JS check costs a one-off
 * table of the base point, 100–200 ms of a short CLI command's start, that WebCrypto does not. The
 * same RFC 8032 check; without WebCrypto's Ed25519, `verifyDeviceCertificate`.
 */
export async function verifyDeviceCertificateAsync(
  certificationKey: Uint8Array,
  certificate: DeviceCertificate,
): Promise<boolean> {
  const subtle = globalThis.crypto?.subtle;
  const signature = fromBase64(certificate.signature);
  if (signature === undefined || signature.length !== 64 || certificationKey.length !== 32) return false;
  const key = await importedCertificationKey(certificationKey);
  if (key === undefined) return verifyDeviceCertificate(certificationKey, certificate);
  try {
    return await subtle.verify(
      'Ed25519',
      key,
      new Uint8Array(signature),
      new Uint8Array(deviceCertificateMessage(certificate)),
    );
  } catch {
    return false;
  }
}

/**
 * The certification key as a WebCrypto key (undefined where the platform has no Ed25519), imported
 * once per key: a device joining a group of 1,000 checks 999 certificates under the same key.
 */
const importedKeys = new Map<string, Promise<CryptoKey | undefined>>();
function importedCertificationKey(certificationKey: Uint8Array): Promise<CryptoKey | undefined> {
  const id = toBase64(certificationKey);
  let key = importedKeys.get(id);
  if (!key) {
    key = (async () => {
      try {
        return await globalThis.crypto.subtle.importKey(
          'raw',
          new Uint8Array(certificationKey),
          'Ed25519',
          false,
          ['verify'],
        );
      } catch {
        return undefined;
      }
    })();
    // A handful of certification keys in a process's life (one per server it trusts).
    if (importedKeys.size >= 16) importedKeys.clear();
    importedKeys.set(id, key);
  }
  return key;
}

/** Whether the certificate verifies under the certification key (never throws). */
export function verifyDeviceCertificate(
  certificationKey: Uint8Array,
  certificate: DeviceCertificate,
): boolean {
  const signature = fromBase64(certificate.signature);
  if (signature === undefined || signature.length !== 64) return false;
  try {
    return ed25519.verify(signature, deviceCertificateMessage(certificate), certificationKey);
  } catch {
    return false;
  }
}
