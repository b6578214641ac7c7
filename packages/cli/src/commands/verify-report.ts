import {
  computeReport,
  CourierError,
  encodeLeaf,
  leafHash,
  openCheckpoint,
  parseLeaf,
  parseVerifierKey,
  type PublicLeaf,
  rootFromLeafHashes,
  equalBytes,
  type TransparencyReport,
  verifyConsistency,
} from '@courier/protocol';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { readJson, writeFileAtomic } from '../atomic-file.ts';
import type { CommandContext } from '../context.ts';

interface Options {
  period: string;
  key?: string;
  /** The log's name: the origin line its checkpoints must carry. */
  origin?: string;
  trustServerKey?: boolean;
}

async function get(server: string, path: string): Promise<Response> {
  const response = await fetch(new URL(path, server)).catch((cause: unknown) => {
    throw new CourierError('SERVER_UNAVAILABLE', { message: `Cannot reach ${server}`, cause });
  });
  if (!response.ok)
    throw new CourierError('SERVER_UNAVAILABLE', { message: `${path} answered ${response.status}` });
  return response;
}

const fail = (message: string) =>
  new CourierError('INTERNAL', { message: `VERIFICATION FAILED: ${message}` });

/**
 * Recomputes a published transparency report from the public log: checks the checkpoint's
 * signature against a pinned key, the root against every leaf, the report against the leaves,
 * and that the log only grew since the last checkpoint this profile saw.
 */
export async function verifyReport(ctx: CommandContext, options: Options): Promise<void> {
  const server = ctx.profile.server();
  const keyText = options.key ?? process.env.COURIER_TRANSPARENCY_VERIFIER;
  if (!keyText && !options.trustServerKey) {
    throw new CourierError('REQ_INVALID', {
      message:
        "Give the operator's verifier key with --key (or COURIER_TRANSPARENCY_VERIFIER); --trust-server-key takes the server's word for it.",
    });
  }
  const verifier = parseVerifierKey(
    keyText ?? (await (await get(server, '/v1/transparency/key')).text()).trim(),
  );
  // A checkpoint of another log signed with the same key must not pass for this one. Pinned like
  // the key; by default the origin the server publishes next to its key.
  const origin =
    options.origin ??
    process.env.COURIER_TRANSPARENCY_ORIGIN ??
    (await (await get(server, '/v1/transparency/origin')).text()).trim();
  const {
    checkpoint: note,
    policyText,
    ...published
  } = (await (
    await get(server, `/v1/transparency/reports/${options.period}.json`)
  ).json()) as TransparencyReport & {
    checkpoint: string;
    policyText?: string | null;
  };
  // The report names the signed checkpoint that covers it.
  let checkpoint: ReturnType<typeof openCheckpoint>;
  try {
    checkpoint = openCheckpoint(note, verifier, origin);
  } catch (error) {
    throw fail(`the report's checkpoint does not open: ${(error as Error).message}`);
  }
  if (published.logSize > checkpoint.size)
    throw fail('the report counts leaves beyond the signed checkpoint');

  const leaves: PublicLeaf[] = [];
  const hashes: Uint8Array[] = [];
  while (hashes.length < checkpoint.size) {
    const page = (await (
      await get(server, `/v1/transparency/leaves?start=${hashes.length}&end=${checkpoint.size}`)
    ).json()) as {
      leaves: { index: number; leaf: string }[];
    };
    if (page.leaves.length === 0) throw fail('the server stopped serving leaves before the checkpoint size');
    for (const { index, leaf } of page.leaves) {
      const parsed = parseLeaf(leaf);
      if (index !== hashes.length || !parsed || encodeLeaf(parsed) !== leaf)
        throw fail(`leaf ${index} is malformed`);
      leaves.push(parsed);
      hashes.push(leafHash(new TextEncoder().encode(leaf)));
    }
  }
  if (!equalBytes(rootFromLeafHashes(hashes), checkpoint.rootHash))
    throw fail('the leaves do not produce the signed root');

  const recomputed = computeReport(leaves.slice(0, published.logSize), options.period);
  if (JSON.stringify(recomputed) !== JSON.stringify(published))
    throw fail('the published report differs from the one the log gives');
  // The policy text published with the report is the one whose hash the log holds.
  if (
    published.policy !== null &&
    (typeof policyText !== 'string' ||
      createHash('sha256').update(policyText, 'utf8').digest('hex') !== published.policy.hash)
  )
    throw fail(`the published policy text is not the policy ${published.policy.version} the log names`);

  const statePath = join(ctx.profile.dir, `transparency-${verifier.name}.json`);
  const previous = readJson<{ size: number; root: string; origin?: string }>(statePath);
  if (previous?.origin !== undefined && previous.origin !== checkpoint.origin)
    throw fail(
      `the log is now "${checkpoint.origin}", but this profile verified "${previous.origin}" before`,
    );
  let grew = 'first checkpoint seen from this profile';
  if (previous && previous.size > checkpoint.size) {
    throw fail(
      `the log shrank from ${previous.size} leaves (seen before) to ${checkpoint.size}: it was rolled back or restored from an old copy`,
    );
  }
  if (previous && previous.size > 0) {
    const proof = (await (
      await get(server, `/v1/transparency/proof/consistency?from=${previous.size}&to=${checkpoint.size}`)
    ).json()) as {
      proof: string[];
    };
    try {
      verifyConsistency(
        previous.size,
        checkpoint.size,
        proof.proof.map((p) => new Uint8Array(Buffer.from(p, 'base64'))),
        new Uint8Array(Buffer.from(previous.root, 'base64')),
        checkpoint.rootHash,
      );
    } catch (error) {
      throw fail(
        `the log is not an extension of the one seen before (size ${previous.size}): ${(error as Error).message}`,
      );
    }
    grew = `consistent with the checkpoint of size ${previous.size} seen before`;
  }
  writeFileAtomic(
    statePath,
    JSON.stringify({
      origin: checkpoint.origin,
      size: checkpoint.size,
      root: Buffer.from(checkpoint.rootHash).toString('base64'),
    }),
  );
  const t = published.totals;
  ctx.io.out(`Report ${options.period} verified against ${checkpoint.size} signed log leaves (${grew}).`);
  ctx.io.out(
    `received ${t.received}, not considered ${t.notConsidered}, rejected ${t.rejected}, declined ${t.declined}, fulfilled ${t.fulfilled}, pending ${t.pending}, accounts affected ${t.accountsAffected}`,
  );
}
