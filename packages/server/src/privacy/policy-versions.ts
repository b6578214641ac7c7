import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** A published privacy-policy text. New versions are new entries here, never edits of old ones. */
export interface PolicyVersion {
  version: string;
  effectiveFrom: number;
  markdown: string;
  sha256: string;
}

function load(version: string): PolicyVersion {
  const markdown = readFileSync(new URL(`./policies/${version}.md`, import.meta.url), 'utf8');
  return {
    version,
    effectiveFrom: Date.parse(`${version}T00:00:00Z`),
    markdown,
    sha256: createHash('sha256').update(markdown).digest('hex'),
  };
}

/** Every version shipped with Courier, oldest first. */
export const policyVersions: readonly PolicyVersion[] = [load('2018-08-14')];

/** The versions a server publishes (tests may pass their own), and which is in force when. */
export class PolicyBook {
  constructor(
    readonly all: readonly PolicyVersion[],
    private readonly clock: { now(): number },
  ) {}

  current(): PolicyVersion {
    return currentPolicy(this.clock.now(), this.all);
  }
}

/** The version in force at `now`: the newest one already effective. */
export function currentPolicy(
  now: number,
  versions: readonly PolicyVersion[] = policyVersions,
): PolicyVersion {
  const effective = versions.filter((v) => v.effectiveFrom <= now);
  const current = effective[effective.length - 1] ?? versions[0];
  if (!current) throw new Error('No privacy policy is defined');
  return current;
}
