import type { Config } from '../config.ts';
import { FsBlobStore } from './fs/fs-blob-store.ts';
import type { BlobStore } from './ports.ts';

/** Opens the configured blob store; the S3 driver is imported only when the config names it. */
export async function openBlobStore(
  config: Config['media']['store'],
  env: Readonly<Record<string, string | undefined>>,
): Promise<BlobStore> {
  if (config.kind === 'fs') return new FsBlobStore(config.dir as string);
  const { S3BlobStore } = await import('./s3/s3-blob-store.ts');
  const accessKeyId = config.accessKeyIdEnv ? env[config.accessKeyIdEnv] : undefined;
  const secretAccessKey = config.secretAccessKeyEnv ? env[config.secretAccessKeyEnv] : undefined;
  if ((config.accessKeyIdEnv || config.secretAccessKeyEnv) && !(accessKeyId && secretAccessKey))
    throw new Error(
      `media.store: set both ${config.accessKeyIdEnv ?? 'accessKeyIdEnv'} and ${config.secretAccessKeyEnv ?? 'secretAccessKeyEnv'}`,
    );
  return new S3BlobStore({
    bucket: config.bucket,
    endpoint: config.endpoint,
    region: config.region,
    forcePathStyle: config.forcePathStyle,
    prefix: config.prefix,
    credentials: accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey } : undefined,
    pieceBytes: config.pieceBytes,
  });
}
