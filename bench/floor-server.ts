/**
 * The floor: a bare `ws` relay and fan-out server, no authentication, schema or storage, run as
 * its own process by `npm run bench -- floor` with the W1–W3 shapes (../shared/BENCH.md). Whatever
 * Courier costs beyond this is Courier's own. Started as `node --import tsx bench/floor-server.ts`
 * with FLOOR_PORT; any HTTP GET answers 200 (readiness).
 */
import { createServer } from 'node:http';
import { type WebSocket, WebSocketServer } from 'ws';
import {
  decodeEntry,
  encodeAccepted,
  entryOfSend,
  FloorOp,
  groupOfJoin,
  requestIdOf,
} from './floor-protocol.ts';

const port = Number(process.env.FLOOR_PORT);
const groups = new Map<string, Set<WebSocket>>();
const http = createServer((_request, response) => response.end('ok'));
const wss = new WebSocketServer({ server: http, perMessageDeflate: false });
const READY = new Uint8Array([FloorOp.ready]);

wss.on('connection', (ws) => {
  const joined: Set<WebSocket>[] = [];
  ws.on('message', (data: Buffer) => {
    switch (data[0]) {
      case FloorOp.hello:
        ws.send(READY);
        return;
      case FloorOp.join: {
        const name = groupOfJoin(data);
        let members = groups.get(name);
        if (!members) {
          members = new Set();
          groups.set(name, members);
        }
        members.add(ws);
        joined.push(members);
        return;
      }
      case FloorOp.send: {
        const members = groups.get(decodeEntry(data).group);
        // Encoded once, the same bytes to every other member.
        const entry = entryOfSend(data);
        for (const member of members ?? []) if (member !== ws) member.send(entry);
        ws.send(encodeAccepted(requestIdOf(data)));
        return;
      }
    }
  });
  ws.on('close', () => {
    for (const members of joined) members.delete(ws);
  });
  ws.on('error', () => ws.terminate());
});

http.listen(port, '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
