/**
 * Node's own crypto module when the SDK runs in Node (the CLI, servers, benches), else undefined (a
 * browser, where WebCrypto does the work). Reached through `process.getBuiltinModule` (Node 20.16+),
 * so that no bundler sees an import of `node:crypto`. For 64 KiB media chunks it is several times
 * cheaper than WebCrypto's per-call overhead (algorithm normalisation, a copy of the input, a job
 * on the thread pool and a promise per chunk), which dominated an upload's CPU time.
 */
type NodeCrypto = typeof import('node:crypto');

const getBuiltin = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process
  ?.getBuiltinModule;

export const nodeCrypto: NodeCrypto | undefined =
  typeof getBuiltin === 'function' ? (getBuiltin('node:crypto') as NodeCrypto | undefined) : undefined;
