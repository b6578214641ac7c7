/**
 * The audit log: every entry of the desk's public, append-only log (requests, approvals,
 * rejections, productions, suspensions), each with its inclusion proof checked here, in the
 * browser, against the current checkpoint, whose signature is checked with the log's key. Auditors
 * also see the staff audit trail (who did what, when), which stays private.
 */
import { decodeBase64, encodeBase64, leafHash, openCheckpoint, verifyInclusion } from '@courier/protocol';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { api, messageOf, publicText, when } from './api.ts';
import { ErrorLine, TableScroll, useAction } from './ui.tsx';

const PAGE = 20;
const utf8 = new TextEncoder();

interface LogState {
  size: number;
  root: Uint8Array;
  signedLine: string;
  leaves: { index: number; leaf: string }[];
}

type Proof = { ok: true; hashes: string[] } | { ok: false; why: string };

/** The signed checkpoint (signature checked) and every leaf up to its size. */
async function loadLog(): Promise<LogState> {
  const [note, key, origin] = await Promise.all([
    publicText('/v1/transparency/checkpoint'),
    publicText('/v1/transparency/key'),
    publicText('/v1/transparency/origin'),
  ]);
  const checkpoint = openCheckpoint(note, key.trim(), origin.trim());
  const leaves: LogState['leaves'] = [];
  while (leaves.length < checkpoint.size) {
    const { leaves: more } = JSON.parse(
      await publicText(`/v1/transparency/leaves?start=${leaves.length}&end=${checkpoint.size}`),
    ) as { leaves: LogState['leaves'] };
    if (more.length === 0) break;
    leaves.push(...more);
  }
  return {
    size: checkpoint.size,
    root: checkpoint.rootHash,
    signedLine: checkpoint.extensions.join(' '),
    leaves,
  };
}

/** Fetches the inclusion proof of one entry and checks it leads to the signed root. */
async function proveInclusion(log: LogState, index: number, leaf: string): Promise<Proof> {
  try {
    const { proof } = JSON.parse(
      await publicText(`/v1/transparency/proof/inclusion?index=${index}&size=${log.size}`),
    ) as { proof: string[] };
    const hashes = proof.map((h) => {
      const bytes = decodeBase64(h);
      if (!bytes) throw new Error('a proof hash is not base64');
      return bytes;
    });
    verifyInclusion(index, log.size, leafHash(utf8.encode(leaf)), hashes, log.root);
    return { ok: true, hashes: proof };
  } catch (error) {
    return { ok: false, why: messageOf(error) };
  }
}

/** One leaf in words (its fields are public by design: no personal data). */
function describe(leaf: string): { type: string; at: number; text: string; commitment?: string } {
  const v = JSON.parse(leaf) as Record<string, unknown>;
  const list = (x: unknown) => (Array.isArray(x) && x.length > 0 ? x.join(', ') : 'none');
  const type = String(v.type);
  const text =
    type === 'request'
      ? `${v.country}, ${String(v.instrument).replace('_', ' ')}: ${v.outcome}; reasons ${list(v.reasons)}; asked ${list(v.requested)}; ${v.accountsSpecified} account(s)`
      : type === 'approval'
        ? `approval ${v.approvals}`
        : type === 'rejection'
          ? `declined (${v.reason})`
          : type === 'production'
            ? `produced ${list(v.categories)} of ${v.accountsAffected} account(s); package ${String(v.packageHash).slice(0, 16)}…`
            : type === 'policy'
              ? `policy ${v.policyVersion} in force`
              : type === 'suspension'
                ? `account ${v.action} (${v.reason})`
                : type;
  return {
    type,
    at: Number(v.at),
    text,
    ...(typeof v.case === 'string' ? { commitment: v.case } : {}),
  };
}

export function AuditLog(props: { staffAudit: boolean; commitment?: string | undefined }) {
  const [log, setLog] = useState<LogState | undefined>();
  const [page, setPage] = useState(0);
  const [proofs, setProofs] = useState<Map<number, Proof>>(new Map());
  const { error, run } = useAction();
  useEffect(() => void run(async () => setLog(await loadLog())), [run]);

  const entries = useMemo(() => {
    const all = (log?.leaves ?? []).map((l) => ({ ...l, ...describe(l.leaf) })).reverse();
    return props.commitment ? all.filter((e) => e.commitment === props.commitment) : all;
  }, [log, props.commitment]);
  const shown = useMemo(() => entries.slice(page * PAGE, page * PAGE + PAGE), [entries, page]);
  const pages = Math.max(1, Math.ceil(entries.length / PAGE));

  useEffect(() => {
    if (!log) return;
    let live = true;
    void (async () => {
      for (const entry of shown) {
        if (proofs.has(entry.index)) continue;
        const proof = await proveInclusion(log, entry.index, entry.leaf);
        if (!live) return;
        setProofs((known) => new Map(known).set(entry.index, proof));
      }
    })();
    return () => {
      live = false;
    };
  }, [log, shown, proofs]);

  return (
    <section aria-labelledby="log-title">
      <h2 id="log-title">Audit log</h2>
      <p>
        Every step of every case is an entry in the public, append-only log. Each entry below is checked here
        with its inclusion proof against the log's signed checkpoint: if the server showed staff a different
        log than the public one, the check would fail.
      </p>
      <ErrorLine text={error} />
      {log && (
        <p id="checkpoint" class="card">
          Checkpoint: {log.size} entries, root <code class="hash">{encodeBase64(log.root)}</code> (
          {log.signedLine}), signature verified.
        </p>
      )}
      {props.commitment && (
        <p>
          Showing the entries of one case. <a href="#/log">Show all entries</a>
        </p>
      )}
      <TableScroll label="Log entries">
        <table id="log-entries">
          <caption class="visually-hidden">Log entries, newest first</caption>
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">When</th>
              <th scope="col">Entry</th>
              <th scope="col">What</th>
              <th scope="col">Inclusion proof</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((e) => {
              const proof = proofs.get(e.index);
              return (
                <tr key={e.index} data-index={e.index} data-type={e.type}>
                  <td>{e.index}</td>
                  <td>{when(e.at)}</td>
                  <td>{e.type}</td>
                  <td>{e.text}</td>
                  <td class="proof" data-proof={proof ? (proof.ok ? 'verified' : 'failed') : 'checking'}>
                    {!proof ? (
                      'checking…'
                    ) : proof.ok ? (
                      <details>
                        <summary>✓ included ({proof.hashes.length} hashes)</summary>
                        <ol class="hashes">
                          {proof.hashes.map((h, i) => (
                            <li key={i}>
                              <code class="hash">{h}</code>
                            </li>
                          ))}
                        </ol>
                      </details>
                    ) : (
                      <strong class="bad">✗ not proven: {proof.why}</strong>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </TableScroll>
      {pages > 1 && (
        <nav class="pager" aria-label="Log pages">
          <button type="button" class="secondary" disabled={page === 0} onClick={() => setPage(page - 1)}>
            Newer
          </button>
          <span>
            Page {page + 1} of {pages}
          </span>
          <button
            type="button"
            class="secondary"
            disabled={page >= pages - 1}
            onClick={() => setPage(page + 1)}
          >
            Older
          </button>
        </nav>
      )}
      {props.staffAudit && <StaffAudit />}
    </section>
  );
}

interface StaffEntry {
  at: number;
  accountId: string;
  action: string;
  caseId: string | null;
  ip?: string | null;
}

/** What staff did (auditors only): the newest 500 actions, private to the desk. */
function StaffAudit() {
  const [entries, setEntries] = useState<StaffEntry[] | undefined>();
  const [error, setError] = useState('');
  useEffect(() => {
    api<{ entries: StaffEntry[] }>('GET', '/audit').then(
      (r) => setEntries(r.entries),
      (e) => setError(messageOf(e)),
    );
  }, []);
  return (
    <section aria-labelledby="staff-audit-title">
      <h3 id="staff-audit-title">Staff actions</h3>
      {error && (
        <p class="alert" role="alert">
          {error}
        </p>
      )}
      <TableScroll label="Staff actions">
        <table id="staff-audit">
          <caption class="visually-hidden">Staff actions, newest first</caption>
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Staff account</th>
              <th scope="col">Action</th>
              <th scope="col">Case</th>
              <th scope="col">Address</th>
            </tr>
          </thead>
          <tbody>
            {(entries ?? []).map((e, i) => (
              <tr key={i}>
                <td>{when(e.at)}</td>
                <td>{e.accountId || '(unknown username)'}</td>
                <td>{e.action}</td>
                <td>{e.caseId ?? ''}</td>
                <td>{e.ip ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </TableScroll>
    </section>
  );
}
