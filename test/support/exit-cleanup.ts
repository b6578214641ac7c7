/**
 * Cleanups that must run however this process ends: a normal exit, `process.exit`, an uncaught
 * exception, or SIGINT / SIGTERM / SIGHUP (which by default end Node without running `finally`
 * blocks or `exit` listeners). Tests and the bench register what they start outside this process
 * (server processes, network namespaces) here, and unregister once they removed it themselves.
 * Cleanups are synchronous: nothing asynchronous runs once the process is exiting.
 */
type Cleanup = () => void;

const cleanups = new Set<Cleanup>();
const SIGNALS = { SIGINT: 2, SIGTERM: 15, SIGHUP: 1 } as const;
let installed = false;

/** Runs (and forgets) every registered cleanup; one that throws does not stop the others. */
export function runExitCleanups(): void {
  for (const cleanup of [...cleanups].reverse()) {
    cleanups.delete(cleanup);
    try {
      cleanup();
    } catch (error) {
      process.stderr.write(`cleanup failed: ${(error as Error).message ?? error}\n`);
    }
  }
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', runExitCleanups);
  for (const [signal, number] of Object.entries(SIGNALS))
    process.on(signal, () => {
      runExitCleanups();
      // As the default action would, but after the cleanups: the shell sees 128 + signal number.
      process.exit(128 + number);
    });
}

/** Registers a cleanup; call the returned function once the thing is removed the normal way. */
export function onExitCleanup(cleanup: Cleanup): () => void {
  install();
  cleanups.add(cleanup);
  return () => {
    cleanups.delete(cleanup);
  };
}
