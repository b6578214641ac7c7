import { existsSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { errorCatalog } from '@courier/protocol';
import type { StorageConfig } from '../storage/open-storage.ts';
import type { Storage } from '../storage/ports.ts';
import { LegalRequestInvalid, parseLegalRequest } from '../legal/legal-request.ts';
import { type DisclosurePolicy, LegalPolicyInvalid, POLICY_2018, parsePolicy } from '../legal/policy.ts';
import { evaluate } from '../legal/policy-engine.ts';
import { StorageLegalFacts } from '../legal/storage-legal-facts.ts';

export interface LegalCliIo {
  out: (text: string) => void;
  err: (text: string) => void;
  /** The configured storage (from --config, COURIER_CONFIG or the environment), for --with-facts. */
  storageConfig: (configFile: string | undefined) => StorageConfig;
  openStorage: (config: StorageConfig) => Promise<Storage>;
  now: () => number;
}

export const USAGE =
  'usage: courier-server legal evaluate <request.json> [--policy policy.json] [--at ISO-time] [--with-facts [--config file.json]]';

const FACTS_UNKNOWN =
  'Facts unknown: no database was consulted, so whether the targets exist and whether IP records ' +
  'remain in the range was not checked. Run with --with-facts to look them up (read only).';

/** Not in the protocol catalog: only this command reads a policy file. */
const POLICY_INVALID_MESSAGE = 'The disclosure policy does not match the documented format.';

/**
 * `courier-server legal evaluate <request.json>`: prints the decision of the policy (the 2018
 * default, or --policy) as JSON and stores nothing. Without --with-facts nothing is looked up and
 * the output says the facts are unknown; --at evaluates as of another time (the IP retention
 * window depends on it). Returns the exit code: 0 decided, 1 invalid request or policy, 2 usage.
 */
export async function runLegalEvaluate(argv: string[], io: LegalCliIo): Promise<number> {
  let args: ReturnType<typeof parse>;
  try {
    args = parse(argv);
  } catch (error) {
    io.err(`${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  const { positionals, values } = args;
  const [sub, file, ...extra] = positionals;
  const now = values.at === undefined ? io.now() : Date.parse(values.at);
  if (sub !== 'evaluate' || !file || extra.length > 0 || Number.isNaN(now)) {
    io.err(USAGE);
    return 2;
  }
  const fail = (code: string, message: string, issues: string[]) => {
    io.err(JSON.stringify({ error: { code, message, details: { issues } } }, null, 2));
    return 1;
  };

  let request: ReturnType<typeof parseLegalRequest>;
  let policy: DisclosurePolicy = POLICY_2018;
  try {
    request = parseLegalRequest(readJson(file, LegalRequestInvalid));
    if (values.policy !== undefined) policy = parsePolicy(readJson(values.policy, LegalPolicyInvalid));
  } catch (error) {
    if (error instanceof LegalRequestInvalid)
      return fail('LEGAL_REQUEST_INVALID', errorCatalog.LEGAL_REQUEST_INVALID.message, error.issues);
    if (error instanceof LegalPolicyInvalid)
      return fail('LEGAL_POLICY_INVALID', POLICY_INVALID_MESSAGE, error.issues);
    io.err(`${(error as Error).message}\n${USAGE}`);
    return 2;
  }

  let storage: Storage | undefined;
  try {
    if (values['with-facts']) {
      let config: StorageConfig;
      try {
        config = io.storageConfig(values.config);
      } catch (error) {
        io.err((error as Error).message);
        return 2;
      }
      // Opening a SQLite path that does not exist would create a database: evaluate stores nothing.
      if (config.kind === 'sqlite' && config.path !== ':memory:' && !existsSync(config.path)) {
        io.err(`No database at ${config.path}: run without --with-facts, or name the config with --config.`);
        return 2;
      }
      storage = await io.openStorage(config);
    }
    const decision = await evaluate(request, policy, storage && new StorageLegalFacts(storage), now);
    io.out(
      JSON.stringify(
        {
          ...decision,
          evaluatedAt: new Date(now).toISOString(),
          ...(decision.facts === 'unknown' ? { note: FACTS_UNKNOWN } : {}),
        },
        null,
        2,
      ),
    );
    return 0;
  } finally {
    await storage?.close();
  }
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      policy: { type: 'string' },
      at: { type: 'string' },
      'with-facts': { type: 'boolean' },
      config: { type: 'string' },
    },
  });
}

/** A file's JSON; a file that is not JSON is an invalid request (or policy), not a crash. */
function readJson(file: string, Invalid: new (issues: string[]) => Error): unknown {
  const text = readFileSync(file, 'utf8');
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new Invalid([`(root): not JSON: ${(error as Error).message}`]);
  }
}
