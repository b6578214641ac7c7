import { closeSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A lock left by a process that died holding it (kill -9) may be broken. */
function isStale(lockPath: string): boolean {
  try {
    const pid = Number(readFileSync(lockPath, 'utf8'));
    if (Number.isInteger(pid) && pid > 0) return !alive(pid);
    // Created but not yet written: stale only if it stays empty.
    return Date.now() - statSync(lockPath).mtimeMs > 2_000;
  } catch {
    return false; // gone already: the next attempt takes it
  }
}

/** One attempt to create the lock file with our pid in it; a lock of a dead process is broken. */
function tryAcquire(lockPath: string): boolean {
  mkdirSync(dirname(lockPath), { recursive: true, mode: 0o700 });
  for (;;) {
    try {
      const fd = openSync(lockPath, 'wx', 0o600);
      try {
        writeSync(fd, String(process.pid));
      } finally {
        closeSync(fd);
      }
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      if (!isStale(lockPath)) return false;
      rmSync(lockPath, { force: true });
    }
  }
}

/**
 * Holds a lock file for as long as this process wants it (released by the returned function or
 * by the process dying). Returns the holder's pid instead when another live process has it.
 */
export function holdLock(lockPath: string): { release: () => void } | { heldBy: number } {
  if (tryAcquire(lockPath)) {
    const release = () => {
      process.off('exit', release);
      rmSync(lockPath, { force: true });
    };
    process.on('exit', release);
    return { release };
  }
  let heldBy = 0;
  try {
    heldBy = Number(readFileSync(lockPath, 'utf8'));
  } catch {
    // released meanwhile
  }
  return { heldBy };
}
