import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { onExitCleanup } from './exit-cleanup.ts';

/** An S3 server (s3rver from npm) in its own process, on a free port, with one bucket. */
export interface S3rverProcess {
  endpoint: string;
  bucket: string;
  /** Environment variable names and values for media.store's accessKeyIdEnv/secretAccessKeyEnv. */
  env: Record<string, string>;
  stop(): Promise<void>;
}

const BIN = fileURLToPath(new URL('../../node_modules/s3rver/bin/s3rver.js', import.meta.url));

/**
 * Starts s3rver with `--port 0` and reads the port it chose from its log line; the process and its
 * folder are removed by `stop()` and, however this process ends, by an exit cleanup.
 */
export async function startS3rver(bucket = 'media-bucket'): Promise<S3rverProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'courier-s3rver-'));
  const child: ChildProcess = spawn(
    process.execPath,
    [BIN, '-d', dir, '-a', '127.0.0.1', '-p', '0', '--configure-bucket', bucket, '--no-vhost-buckets'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const unregister = onExitCleanup(() => {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
    unregister();
  };
  try {
    const port = await new Promise<number>((resolve, reject) => {
      let log = '';
      const timer = setTimeout(() => reject(new Error(`s3rver did not start: ${log}`)), 20_000);
      const onData = (data: Buffer) => {
        log += data.toString();
        const match = /listening on .*:(\d+)/i.exec(log) ?? /started at http:\/\/[^:]+:(\d+)/i.exec(log);
        if (match) {
          clearTimeout(timer);
          resolve(Number(match[1]));
        }
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`s3rver exited (${code}): ${log}`));
      });
    });
    child.stdout?.resume();
    child.stderr?.resume();
    return {
      endpoint: `http://127.0.0.1:${port}`,
      bucket,
      env: { COURIER_TEST_S3_KEY_ID: 'S3RVER', COURIER_TEST_S3_SECRET: 'S3RVER' },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
