import { createServer, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { guardSocket } from '../http/upgrade.ts';
import { decoyAnswer, decoyGarbageAnswer, renderDecoy } from './decoy-site.ts';

/**
 * The plain web server a relay pretends to be, with no relay in it: what a prober should see when
 * it knocks on a relay. Used by the probe-resistance test as the reference, and runnable on its own
 * (e.g. on the relay's address after the relay is retired).
 */
export function createDecoyServer(now: () => number = Date.now): Server {
  const server = createServer({ maxHeaderSize: 8 * 1024 });
  server.on('request', (req, res) => {
    const method = req.method ?? 'GET';
    const answer = decoyAnswer(method, req.url ?? '/', now());
    res.sendDate = false;
    res.writeHead(answer.status, answer.reason, answer.headers.flat());
    res.end(method === 'HEAD' ? undefined : answer.body);
  });
  // nginx serves a static site to a WebSocket handshake like any GET, and this one then closes.
  server.on('upgrade', (req, socket: Duplex) => {
    guardSocket(socket);
    const method = req.method ?? 'GET';
    const answer = decoyAnswer(method, req.url ?? '/', now());
    socket.end(
      renderDecoy(
        { ...answer, headers: answer.headers.map(([k, v]) => [k, k === 'Connection' ? 'close' : v]) },
        method,
      ),
    );
  });
  server.on('clientError', (_error, socket: Duplex) => {
    if (socket.writable) socket.end(renderDecoy(decoyGarbageAnswer(now())));
    else socket.destroy();
  });
  return server;
}
