/**
 * The one typed, validated server config. Defaults live here; unknown keys are rejected; adapters
 * are chosen by a `kind` field; secrets are referenced by environment variable name, never inlined.
 */
import { join } from 'node:path';
import { DEFAULT_MAX_PAYLOAD_BYTES, DEFAULT_MEMBER_CAP } from '@courier/protocol';
import { z } from 'zod';

/** What a suspended person is told about appealing, unless the operator configures `reports.appeal`. */
export const DEFAULT_APPEAL =
  "To appeal, contact this server's operator; a suspension is lifted by two staff members, one proposing and another approving.";

const storage = z.discriminatedUnion('kind', [
  /** `path` defaults to `courier.db` in `dataDir`. */
  z.strictObject({
    kind: z.literal('sqlite'),
    path: z.string().min(1).optional(),
    /**
     * How long a statement waits for another process's write lock before SERVER_STORAGE_BUSY;
     * the waiting happens between short retries, never blocking the event loop.
     */
    busyWaitMs: z.number().int().positive().default(5000),
  }),
  z.strictObject({
    kind: z.literal('postgres'),
    url: z.string().min(1),
    poolSize: z.number().int().min(1).max(100).default(10),
  }),
]);

const bus = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('memory') }),
  z.strictObject({
    kind: z.literal('nats'),
    servers: z.array(z.string().min(1)).min(1),
    subject: z.string().min(1).default('courier.events'),
  }),
]);

const sms = z.discriminatedUnion('kind', [
  /**
   * Development adapter: prints codes and phone numbers in the server log, and optionally appends
   * them to a file. Refused at start unless `dev` is true.
   */
  z.strictObject({ kind: z.literal('log'), outboxFile: z.string().min(1).optional() }),
  /** A real HTTP SMS gateway: POST {to, text} as JSON with a bearer credential. */
  z.strictObject({
    kind: z.literal('http'),
    url: z.url(),
    credentialEnv: z.string().min(1),
    sender: z.string().min(1).default('Courier'),
    timeoutMs: z.number().int().positive().default(5000),
  }),
]);

/**
 * A secret key the server holds: a file (created on first start of an embedded server if missing),
 * or the name of an environment variable holding the hex key. Never the key itself.
 */
const keyReference = {
  /** Default: a file in `dataDir`. */
  file: z.string().min(1).optional(),
  /** The name of an environment variable that holds the key (hex); wins over `file`. */
  env: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/)
    .optional(),
};

const configObject = z.strictObject({
  /**
   * Development mode, stated explicitly: allows the log SMS adapter, which writes every code and
   * phone number to the log. `npm start` sets it (and the server warns loudly); production never.
   */
  dev: z.boolean().default(false),
  /**
   * The one folder every file the server writes defaults into (database, keys, witness, exports),
   * created 0700; each explicit path below still overrides.
   */
  dataDir: z.string().min(1).default('./data'),
  host: z.string().default('127.0.0.1'),
  port: z.number().int().min(0).max(65535).default(8080),
  /** Addresses of reverse proxies whose X-Forwarded-For is trusted. Nobody else's is. */
  trustedProxies: z.array(z.string()).default([]),
  /**
   * Limits on connections before anyone is authenticated (docs/operations.md, "Limits"); the quotas
   * of signed-in clients are in `limits`. An IPv6 address counts by its /64.
   */
  connections: z
    .strictObject({
      /** Open connections at once; more are answered CONN_TOO_MANY and closed. */
      maxConnections: z.number().int().positive().default(20_000),
      /**
       * Open connections from one address; more are answered CONN_TOO_MANY_FROM_ADDRESS. Generous:
       * many phones share one IPv4 address behind carrier-grade NAT.
       */
      maxConnectionsPerIp: z.number().int().positive().default(256),
      /** New connections one address may open per window; more are answered CONN_RATE_LIMITED. */
      connectsPerIp: z.number().int().positive().default(600),
      connectRateWindowMs: z.number().int().positive().default(60_000),
      /**
       * Addresses not limited per address (nor are trustedProxies): loopback, where a reverse proxy on
       * the same host connects from, and e.g. the operator's relays, whose clients share their address.
       */
      exemptAddresses: z.array(z.string()).default(['127.0.0.1', '::1']),
      /** A request's head must arrive within this time (slow headers), its body within requestTimeoutMs. */
      headersTimeoutMs: z.number().int().positive().default(10_000),
      requestTimeoutMs: z.number().int().positive().default(60_000),
      /** An idle keep-alive connection is closed after this. */
      keepAliveTimeoutMs: z.number().int().positive().default(72_000),
      /** How often the two timeouts above are checked. */
      timeoutCheckIntervalMs: z.number().int().positive().default(1_000),
      /** Bytes of request line and headers (REQ_HEADERS_TOO_LARGE beyond). */
      maxHeaderBytes: z
        .number()
        .int()
        .min(1024)
        .default(16 * 1024),
      /** Bytes a WebSocket may send before its hello is accepted (PROTO_TOO_MUCH_BEFORE_HELLO beyond). */
      preHelloBytes: z
        .number()
        .int()
        .min(1024)
        .default(64 * 1024),
    })
    .refine((c) => c.headersTimeoutMs <= c.requestTimeoutMs, {
      message: 'headersTimeoutMs must not exceed requestTimeoutMs',
    })
    .prefault({}),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  storage: storage.prefault({ kind: 'sqlite' }),
  bus: bus.prefault({ kind: 'memory' }),
  sms: sms.prefault({ kind: 'log' }),
  auth: z
    .strictObject({
      codeLength: z.number().int().min(4).max(10).default(6),
      codeTtlMs: z
        .number()
        .int()
        .positive()
        .default(5 * 60_000),
      maxCodeAttempts: z.number().int().positive().default(5),
      /** SMS actually sent per phone number per window (kept by a hash of the number, past erasure). */
      codesPerPhone: z.number().int().positive().default(10),
      /**
       * Of those, SMS sent per number at the request of one source (address, IPv6 /64, or relay): so
       * that someone probing another person's number from one place cannot use up its whole budget.
       */
      codesPerPhonePerSource: z.number().int().positive().default(3),
      /** SMS sent per window across all numbers: the operator's budget against SMS pumping. */
      smsPerWindow: z.number().int().positive().default(10_000),
      /** Code requests and verifications per client address per window (IPv6: per /64). */
      requestsPerIp: z.number().int().positive().default(60),
      /**
       * The same, per relay, for clients that come through a relay's blind tunnel: the core sees only
       * the relay's address, so they share this larger budget (per-number limits still apply).
       */
      requestsPerRelay: z.number().int().positive().default(6_000),
      rateWindowMs: z
        .number()
        .int()
        .positive()
        .default(60 * 60_000),
    })
    .prefault({}),
  groups: z.strictObject({ memberCap: z.number().int().min(2).default(DEFAULT_MEMBER_CAP) }).prefault({}),
  /**
   * Consent before contact (docs/privacy.md, "Message requests"): how many message requests (new
   * direct chats) and group invitations one account and one client address may make per window.
   */
  consent: z
    .strictObject({
      windowMs: z
        .number()
        .int()
        .positive()
        .default(24 * 3_600_000),
      /** New direct chats plus group invitations per account per window (CONSENT_RATE_LIMITED beyond). */
      requestsPerAccount: z.number().int().positive().default(50),
      /** The same per client address (IPv6: its /64; a relay counts as one address) per window. */
      requestsPerAddress: z.number().int().positive().default(200),
      /** Declines and blocks of an account's requests in one window after which it is slowed down. */
      refusalsBeforeSlowdown: z.number().int().positive().default(5),
      /** The per-account limit of an account slowed down that way. */
      slowedRequestsPerAccount: z.number().int().positive().default(5),
      /**
       * The "who may add me to groups" setting a new account starts with (each person changes their
       * own). `contacts` as the privacy policy promises; a closed deployment (a company, a test
       * rig) where everyone may add everyone can choose `everybody`.
       */
      defaultGroupAdd: z.enum(['everybody', 'contacts', 'nobody']).default('contacts'),
    })
    .refine((c) => c.slowedRequestsPerAccount <= c.requestsPerAccount, {
      message: 'slowedRequestsPerAccount must not exceed requestsPerAccount',
    })
    .prefault({}),
  delivery: z
    .strictObject({
      /**
       * Largest frame payload a client may send. A commit with its path in a 5,000-member group is
       * ~0.4 MB, so below 64 KiB groups would break; above 64 MiB one frame could starve a node.
       */
      maxPayloadBytes: z
        .number()
        .int()
        .min(64 * 1024)
        .max(64 * 1024 * 1024)
        .default(DEFAULT_MAX_PAYLOAD_BYTES),
      /** Stop writing to a socket whose unsent bytes exceed this; resume below lowWaterBytes. */
      highWaterBytes: z
        .number()
        .int()
        .positive()
        .default(1024 * 1024),
      lowWaterBytes: z
        .number()
        .int()
        .nonnegative()
        .default(256 * 1024),
      /** A socket that stays above the high-water mark this long is closed with MSG_SLOW_CONSUMER. */
      slowConsumerMs: z.number().int().positive().default(30_000),
      helloTimeoutMs: z.number().int().positive().default(10_000),
      /**
       * How often a node re-reads the sessions of its connections and closes revoked ones (also
       * after the bus reconnects), so a lost revocation signal cannot keep a device connected.
       */
      sessionRecheckMs: z.number().int().positive().default(30_000),
      /** Acknowledgements and connection records are committed at most this late. */
      lazyFlushMs: z.number().int().min(1).default(250),
      /** Entries older than this are pruned even if some device never acknowledged them. */
      entryTtlMs: z
        .number()
        .int()
        .positive()
        .default(30 * 24 * 3_600_000),
      catchUpPageSize: z.number().int().min(1).max(5000).default(256),
      /** Encoded frames kept per active group so a fan-out encodes and reads each entry once. */
      hubCacheEntries: z.number().int().min(1).default(512),
      /**
       * A channel post whose body is at most this many bytes rides in its `channel_posted` frame
       * (encoded once per node, the same bytes to every subscriber); a larger one is signalled and
       * read over HTTP. 0: every post is only signalled.
       */
      channelPushBytes: z
        .number()
        .int()
        .min(0)
        .max(1024 * 1024)
        .default(16 * 1024),
      /** Channel cursors moved over the socket (`channel_read`) are written together at most this late. */
      channelReadFlushMs: z.number().int().min(1).max(10_000).default(50),
    })
    .prefault({}),
  /** Quotas on signed-in clients (docs/operations.md, "Limits"): each bounded in bytes or rate. */
  limits: z
    .strictObject({
      /** Bytes of one socket's sends taken and not yet answered; above it the server stops reading that socket. */
      inFlightBytesPerSocket: z
        .number()
        .int()
        .positive()
        .default(4 * 1024 * 1024),
      /** The same, counted in sends (many small frames cost memory too). */
      inFlightSendsPerSocket: z.number().int().positive().default(256),
      /** Bytes of encoded frames the fan-out cache keeps per group (besides delivery.hubCacheEntries). */
      hubCacheBytes: z
        .number()
        .int()
        .positive()
        .default(8 * 1024 * 1024),
      /** Bytes of encoded frames the fan-out caches of all groups on a node keep together. */
      hubCacheTotalBytes: z
        .number()
        .int()
        .positive()
        .default(256 * 1024 * 1024),
      /** Bytes of one catch-up page read from the store (besides delivery.catchUpPageSize entries). */
      catchUpPageBytes: z
        .number()
        .int()
        .positive()
        .default(4 * 1024 * 1024),
      /** Bytes of items a device has not fetched yet that its mailbox takes from send_to_device. */
      mailboxBytesPerDevice: z
        .number()
        .int()
        .positive()
        .default(64 * 1024 * 1024),
      /** Open sockets of one device on one node (its receiving one and send-only ones). */
      socketsPerDevice: z.number().int().min(1).default(8),
      /** Open sockets of all devices of one account on one node. */
      socketsPerAccount: z.number().int().min(1).default(64),
      /** Connections (hellos) one device may open per window on one node. */
      connectsPerDevice: z.number().int().min(1).default(120),
      connectWindowMs: z.number().int().positive().default(60_000),
      /** The window of the key-package claim limits below. */
      keyPackageClaimWindowMs: z.number().int().positive().default(3_600_000),
      /** One-time key packages of one device handed out per window; then its last-resort one. */
      oneTimeClaimsPerDevice: z.number().int().min(0).default(10),
      /** One-time key packages of one device one account may take per window; then the last-resort one. */
      oneTimeClaimsPerClaimerPerDevice: z.number().int().min(0).default(2),
      /** Key-package claim requests one account may make per window (MLS_CLAIM_RATE_LIMITED beyond). */
      claimRequestsPerClaimer: z.number().int().positive().default(1000),
      /** Channel subscribes plus unsubscribes one account may make per window (CHANNEL_RATE_LIMITED beyond). */
      channelSubscriptionChangesPerAccount: z.number().int().positive().default(200),
      channelSubscriptionWindowMs: z.number().int().positive().default(3_600_000),
    })
    .prefault({}),
  /** The MLS delivery service (DESIGN §5). */
  mls: z
    .strictObject({
      /**
       * The Ed25519 key (hex) that certifies device credentials; default `device-certification.key`
       * in `dataDir`. Every node of a deployment needs the same key.
       */
      certificationKeyFile: keyReference.file,
      /** Or: the environment variable holding that key (hex). */
      certificationKeyEnv: keyReference.env,
      /** Most one-time key packages a device may keep published. */
      maxOneTimeKeyPackages: z.number().int().min(1).max(1000).default(100),
    })
    .prefault({}),
  /** The legal-desk log and its signed checkpoints (DESIGN §6). */
  transparency: z
    .strictObject({
      /**
       * The operator's Ed25519 signing key (hex); default `transparency-signing.key` in `dataDir`.
       * Every node of a deployment needs the same key.
       */
      keyFile: keyReference.file,
      /** Or: the environment variable holding that key (hex). */
      keyEnv: keyReference.env,
      /**
       * The newest checkpoint of each log this server ran on, kept outside the database to catch a
       * restore; default `log-witness.json` in `dataDir`.
       */
      witnessFile: z.string().min(1).optional(),
      origin: z.string().min(1).default('courier/legal-log'),
      keyName: z
        .string()
        .regex(/^[^\s+]+$/)
        .default('courier-transparency'),
      /** Checkpoints are re-signed at least this often. */
      resignIntervalMs: z
        .number()
        .int()
        .positive()
        .default(24 * 3_600_000),
    })
    .prefault({}),
  /** The legal desk's logins (ASVS 5.0 V6): failed attempts allowed per username and per client address in a sliding window. */
  desk: z
    .strictObject({
      failedLoginsPerUser: z.number().int().positive().default(5),
      failedLoginsPerIp: z.number().int().positive().default(20),
      failedLoginWindowMs: z
        .number()
        .int()
        .positive()
        .default(15 * 60_000),
    })
    .prefault({}),
  /** Reports of chats and requests (issue 12) and what a suspended account is told. */
  reports: z
    .strictObject({
      /** Reports one account may file per window (REPORT_RATE_LIMITED beyond). */
      perAccountPerWindow: z.number().int().positive().default(10),
      windowMs: z.number().int().positive().default(3_600_000),
      /** The sentence ACCOUNT_SUSPENDED carries on how to appeal (an address, a web page). */
      appeal: z.string().min(1).max(500).default(DEFAULT_APPEAL),
    })
    .prefault({}),
  /** Data-export jobs (DESIGN P10): archives are files on the node that built them. */
  exports: z
    .strictObject({
      /** Folder for archives; default: `exports` in `dataDir`. */
      dir: z.string().min(1).optional(),
      /** A running job whose node wrote no progress for this long is taken over by another run. */
      staleAfterMs: z
        .number()
        .int()
        .positive()
        .default(2 * 60_000),
      /** How often a node looks for queued jobs (new requests start at once). */
      pollIntervalMs: z.number().int().positive().default(30_000),
    })
    .prefault({}),
  /** Censorship resistance (docs/censorship.md): the signed endpoint list and the relays' tunnel. */
  endpoints: z
    .strictObject({
      /** The bundle written by `courier-server endpoints sign --out`; without it /v1/endpoints is 404. */
      bundleFile: z.string().min(1).optional(),
      /**
       * 32 random bytes (hex) keying each account's relay subset; default `relay-subset.key` in
       * `dataDir`, created on first start if missing. Every node needs the same one.
       */
      subsetSecretFile: z.string().min(1).optional(),
      /** How many relays (beyond the bootstrap pool) each account is told about per week. */
      relaysPerAccount: z.number().int().min(1).max(64).default(3),
      /**
       * The list-signing public keys (base64, current and next, as `endpoints keygen` prints them)
       * that the web app served at / pins: with a bundle, it fails over across the signed list like
       * the CLI (cores and relays it can reach by WebSocket), and its page may connect to them.
       */
      webKeys: z
        .array(
          z
            .string()
            .regex(/^[A-Za-z0-9+/]{43}=$/, 'must be a 32-byte Ed25519 public key in base64 (44 characters)'),
        )
        .min(1)
        .max(2)
        .optional(),
      /**
       * TLS for connections tunnelled through relays (the blind mode): its certificate's public key is
       * what the signed list pins. Without it the tunnel path is closed.
       */
      tunnel: z.strictObject({ certFile: z.string().min(1), keyFile: z.string().min(1) }).optional(),
    })
    .prefault({}),
  /**
   * Media (issue 14): where encrypted blobs are kept, and the limits on uploads. Sizes count the
   * ciphertext a client uploads (the plaintext plus 16 bytes per 64 KiB chunk).
   */
  media: z
    .strictObject({
      store: z
        .discriminatedUnion('kind', [
          /** Files under `dir` (default: `media` in `dataDir`): nothing to set up, one node. */
          z.strictObject({ kind: z.literal('fs'), dir: z.string().min(1).optional() }),
          /** An S3-compatible bucket shared by every node; the AWS SDK is loaded only then. */
          z.strictObject({
            kind: z.literal('s3'),
            bucket: z.string().min(3),
            /** e.g. `http://127.0.0.1:9000` for a self-hosted store; default: AWS for `region`. */
            endpoint: z.url().optional(),
            region: z.string().min(1).default('us-east-1'),
            /** Path-style URLs (`endpoint/bucket/key`), which most self-hosted stores need. */
            forcePathStyle: z.boolean().default(true),
            /** Key prefix inside the bucket. */
            prefix: z.string().default(''),
            /** Environment variables holding the access key id and secret (never the values). */
            accessKeyIdEnv: keyReference.env,
            secretAccessKeyEnv: keyReference.env,
            /**
             * Bytes buffered per object written (one object per piece, so any S3 store works; no
             * multipart listing needed); a request that breaks off stores what it delivered.
             */
            pieceBytes: z
              .number()
              .int()
              .min(64 * 1024)
              .default(8 * 1024 * 1024),
          }),
        ])
        .prefault({ kind: 'fs' }),
      /** The largest file (plaintext) a person may send: 2 GiB. */
      maxFileBytes: z
        .number()
        .int()
        .positive()
        .default(2 * 1024 ** 3),
      /** Bytes of blobs (finished or not) one account may keep stored at once. */
      quotaBytesPerAccount: z
        .number()
        .int()
        .positive()
        .default(10 * 1024 ** 3),
      /** Uploads one account may start per window (MEDIA_RATE_LIMITED beyond). */
      uploadsPerWindow: z.number().int().positive().default(200),
      uploadWindowMs: z.number().int().positive().default(3_600_000),
      /** An upload not finished this long after it started is deleted (its bytes and its record). */
      incompleteUploadTtlMs: z
        .number()
        .int()
        .positive()
        .default(24 * 3_600_000),
      /**
       * A finished blob is kept at least this long, and after that while its chat's log still holds
       * an entry from its upload time on (a device that has not caught up may yet receive the
       * message that points at it). Default: the log's own entry TTL, 30 days.
       */
      blobTtlMs: z
        .number()
        .int()
        .positive()
        .default(30 * 24 * 3_600_000),
    })
    .prefault({}),
  /**
   * Sticker packs (issue 16): public images, checked by content on upload (sticker/). Images are kept
   * in a blob store of the media store's kind: files under `dir` (default `stickers` in `dataDir`)
   * when media is `fs`, or the media bucket under the key prefix `<media prefix>stickers/` when `s3`.
   */
  stickers: z
    .strictObject({
      dir: z.string().min(1).optional(),
      /** The largest image file accepted, in bytes (STICKER_TOO_LARGE beyond). */
      maxBytes: z
        .number()
        .int()
        .min(1024)
        .max(16 * 1024 * 1024)
        .default(512 * 1024),
      /** The most frames an animated WebP may have (STICKER_TOO_MANY_FRAMES beyond). */
      maxFrames: z.number().int().min(1).max(10_000).default(120),
      /** Stickers one pack may hold (STICKER_PACK_FULL beyond). */
      maxStickersPerPack: z.number().int().min(1).max(10_000).default(120),
      /** Packs one account may own (STICKER_PACK_LIMIT beyond). */
      maxPacksPerAccount: z.number().int().min(1).max(10_000).default(50),
    })
    .prefault({}),
  /** How long personal records are kept (DESIGN P10). */
  retention: z
    .strictObject({
      /** Connection records (IP addresses), in months; 0 means IP addresses are never stored. */
      ipMonths: z.number().int().min(0).max(120).default(12),
      /** Sessions unused for this many days are deleted (the device must log in again). */
      sessionIdleDays: z.number().int().min(1).default(365),
      /** Data-export archives are deleted this many hours after they are ready. */
      exportArchiveHours: z
        .number()
        .int()
        .min(1)
        .max(24 * 90)
        .default(72),
      /** Reports (the messages a reporter forwarded) are deleted this many months after they arrive. */
      reportMonths: z.number().int().min(1).max(120).default(12),
      /** How often the retention rules run. */
      intervalMs: z
        .number()
        .int()
        .positive()
        .default(10 * 60_000),
    })
    .prefault({}),
});

type ParsedConfig = z.output<typeof configObject>;
type SqliteStorage = Extract<ParsedConfig['storage'], { kind: 'sqlite' }>;

/** Fills every path left out with its place in `dataDir`. */
function placeInDataDir(c: ParsedConfig) {
  const at = (name: string) => join(c.dataDir, name);
  const storage =
    c.storage.kind === 'sqlite'
      ? ({ ...c.storage, path: c.storage.path ?? at('courier.db') } as SqliteStorage & { path: string })
      : c.storage;
  return {
    ...c,
    storage,
    mls: { ...c.mls, certificationKeyFile: c.mls.certificationKeyFile ?? at('device-certification.key') },
    transparency: {
      ...c.transparency,
      keyFile: c.transparency.keyFile ?? at('transparency-signing.key'),
      witnessFile: c.transparency.witnessFile ?? at('log-witness.json'),
    },
    exports: { ...c.exports, dir: c.exports.dir ?? at('exports') },
    endpoints: { ...c.endpoints, subsetSecretFile: c.endpoints.subsetSecretFile ?? at('relay-subset.key') },
    media: {
      ...c.media,
      store:
        c.media.store.kind === 'fs'
          ? { ...c.media.store, dir: c.media.store.dir ?? at('media') }
          : c.media.store,
    },
    stickers: { ...c.stickers, dir: c.stickers.dir ?? at('stickers') },
  };
}

export const configSchema = configObject.transform(placeInDataDir);

/**
 * Every key with its default, before paths are placed in `dataDir` (so a copy of it with another
 * `dataDir` moves every file): what docs/config.example.json lists.
 */
export function configDefaults(): z.output<typeof configObject> {
  return configObject.parse({});
}

export type Config = z.output<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;

/** Validates a config object; throws a readable error listing every problem. */
export function parseConfig(input: unknown): Config {
  const result = configSchema.safeParse(input ?? {});
  if (!result.success) {
    const problems = result.error.issues
      .map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`)
      .join('\n');
    throw new Error(`Invalid Courier config:\n${problems}`);
  }
  return result.data;
}
