/**
 * The media floor (issue 14): a bare Node HTTP server with no tus, no authentication, no database,
 * that appends PUT bodies to one file at the offset the request names and serves it back with GET,
 * run as its own process by the `media` bench. What Courier's encrypted upload and download cost
 * beyond this on the same loopback and disk is Courier's own. Started as
 * `node --import tsx bench/media-floor-server.ts` with MEDIA_FLOOR_PORT and MEDIA_FLOOR_FILE; prints
 * `ready` on stdout once listening.
 */
import { createReadStream, createWriteStream, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { pipeline } from 'node:stream/promises';

const port = Number(process.env.MEDIA_FLOOR_PORT);
const file = process.env.MEDIA_FLOOR_FILE as string;
writeFileSync(file, new Uint8Array(0));

const server = createServer((request, response) => {
  if (request.method === 'PUT') {
    const offset = Number(new URL(request.url ?? '/', 'http://x').searchParams.get('offset') ?? 0);
    // As the blob store writes (1 MiB buffer; fs-blob-store.ts).
    const out = createWriteStream(file, { flags: 'r+', start: offset, highWaterMark: 1024 * 1024 });
    pipeline(request, out).then(
      () => response.writeHead(204, { 'upload-offset': String(offset + out.bytesWritten) }).end(),
      () => response.writeHead(500).end(),
    );
    return;
  }
  if (request.method === 'GET') {
    const size = statSync(file).size;
    response.writeHead(200, { 'content-length': String(size), 'content-type': 'application/octet-stream' });
    // As the blob store reads (256 KiB pieces; fs-blob-store.ts).
    createReadStream(file, { highWaterMark: 256 * 1024 }).pipe(response);
    return;
  }
  response.writeHead(404).end();
});
server.listen(port, '127.0.0.1', () => process.stdout.write('ready\n'));
process.once('SIGTERM', () => server.close(() => process.exit(0)));
