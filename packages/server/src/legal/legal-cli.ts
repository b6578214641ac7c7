import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { Storage } from '../storage/ports.ts';
import { LegalRequestInvalid, parseLegalRequest } from './legal-request.ts';
import { POLICY_2018, parsePolicy } from './policy.ts';
import { evaluate } from './policy-engine.ts';
import { StorageLegalFacts } from './storage-legal-facts.ts';

export interface LegalCliIo {
  out: (text: string) => void;
  err: (text: string) => void;
  /** Opens the configured storage, for --with-facts (read only: evaluate stores nothing). */
  openStorage: () => Promise<Storage>;
  now: () => number;
}

/**
 * `courier-server legal evaluate <request.json> [--policy policy.json] [--with-facts]`: prints the
 * decision the policy gives, as JSON, and stores nothing. Returns the exit code.
 */
export async function runLegalCommand(argv: string[], io: LegalCliIo): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { policy: { type: 'string' }, 'with-facts': { type: 'boolean' } },
  });
  const [sub, file] = positionals;
  if (sub !== 'evaluate' || !file) {
    io.err('usage: courier-server legal evaluate <request.json> [--policy policy.json] [--with-facts]');
    return 2;
  }
  let storage: Storage | undefined;
  try {
    const request = parseLegalRequest(JSON.parse(readFileSync(file, 'utf8')));
    const policy = values.policy ? parsePolicy(JSON.parse(readFileSync(values.policy, 'utf8'))) : POLICY_2018;
    storage = values['with-facts'] ? await io.openStorage() : undefined;
    const decision = await evaluate(request, policy, storage && new StorageLegalFacts(storage), io.now());
    io.out(
      JSON.stringify(
        {
          ...decision,
          ...(decision.factsChecked || decision.outcome !== 'eligible'
            ? {}
            : { note: 'Facts not checked (no --with-facts): targets and retained data were not looked up.' }),
        },
        null,
        2,
      ),
    );
    return 0;
  } catch (error) {
    if (error instanceof LegalRequestInvalid) io.err(error.message);
    else io.err(`error: ${(error as Error).message}`);
    return 1;
  } finally {
    await storage?.close();
  }
}
