/**
 * The one typed, validated server config. Defaults live here; unknown keys are rejected; adapters
 * are chosen by a `kind` field; secrets are referenced by environment variable name, never inlined.
 */
import { DEFAULT_MAX_PAYLOAD_BYTES, DEFAULT_MEMBER_CAP } from '@courier/protocol';
import { z } from 'zod';

const storage = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('sqlite'), path: z.string().min(1).default('./data/courier.db') }),
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
  /** Development adapter: prints codes in the server log, and optionally appends them to a file. */
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

export const configSchema = z.strictObject({
  host: z.string().default('127.0.0.1'),
  port: z.number().int().min(0).max(65535).default(8080),
  /** Addresses of reverse proxies whose X-Forwarded-For is trusted. Nobody else's is. */
  trustedProxies: z.array(z.string()).default([]),
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
  delivery: z
    .strictObject({
      maxPayloadBytes: z.number().int().positive().default(DEFAULT_MAX_PAYLOAD_BYTES),
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
    })
    .prefault({}),
  /** The MLS delivery service (DESIGN §5). */
  mls: z
    .strictObject({
      /** The Ed25519 key (hex) that certifies device credentials; created on first start if missing. */
      certificationKeyFile: z.string().min(1).default('./data/device-certification.key'),
      /** Most one-time key packages a device may keep published. */
      maxOneTimeKeyPackages: z.number().int().min(1).max(1000).default(100),
    })
    .prefault({}),
  /** The legal-desk log and its signed checkpoints (DESIGN §6). */
  transparency: z
    .strictObject({
      /** The operator's Ed25519 signing key (hex); created on first start if missing. */
      keyFile: z.string().min(1).default('./data/transparency-signing.key'),
      /** The newest checkpoint, kept outside the database (default: beside keyFile) to catch a restore. */
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
  /** Data-export jobs (DESIGN P10): archives are files on the node that built them. */
  exports: z
    .strictObject({
      /** Folder for archives; default: `exports` beside the SQLite file, else ./data/exports. */
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
      /** 32 random bytes (hex) keying each account's relay subset; created on first start if missing. */
      subsetSecretFile: z.string().min(1).default('./data/relay-subset.key'),
      /** How many relays (beyond the bootstrap pool) each account is told about per week. */
      relaysPerAccount: z.number().int().min(1).max(64).default(3),
      /**
       * TLS for connections tunnelled through relays (the blind mode): its certificate's public key is
       * what the signed list pins. Without it the tunnel path is closed.
       */
      tunnel: z.strictObject({ certFile: z.string().min(1), keyFile: z.string().min(1) }).optional(),
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
      /** How often the retention rules run. */
      intervalMs: z
        .number()
        .int()
        .positive()
        .default(10 * 60_000),
    })
    .prefault({}),
});

export type Config = z.infer<typeof configSchema>;
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
