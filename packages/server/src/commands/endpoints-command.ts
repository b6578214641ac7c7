import { ed25519 } from '@noble/curves/ed25519.js';
import { CourierError, type EndpointList, endpointLink, toBase64 } from '@courier/protocol';
import { readFileSync, writeFileSync } from 'node:fs';
import { type EndpointBundle, readSigningKey, signBundle } from '../endpoints/endpoint-bundle.ts';
import { writePrivateFile } from '../files/private-files.ts';
import { parseArgs } from 'node:util';

export interface EndpointsCliIo {
  out: (text: string) => void;
  err: (text: string) => void;
}

export const USAGE = `usage:
  courier-server endpoints keygen --out <key.json>        make the offline list-signing key (mode 0600); prints the public key to pin
  courier-server endpoints sign --list <list.json> --key <key.json> [--bootstrap id,id] [--out bundle.json]
                                                           sign a list; without --bootstrap every relay is in the public list
  courier-server endpoints link --bundle <bundle.json> --id <relay id>   print the courier:// link of one signed relay`;

export async function runEndpointsCommand(argv: string[], io: EndpointsCliIo): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch {
    io.err(USAGE);
    return 2;
  }
  const { positionals, values } = parsed;
  try {
    switch (positionals[0]) {
      case 'keygen': {
        if (!values.out) break;
        const secretKey = ed25519.utils.randomSecretKey();
        writeFileSync(values.out, `${JSON.stringify({ secretKey: toBase64(secretKey) })}\n`, {
          mode: 0o600,
          flag: 'wx',
        });
        io.out(JSON.stringify({ publicKey: toBase64(ed25519.getPublicKey(secretKey)) }));
        return 0;
      }
      case 'sign': {
        if (!values.list || !values.key) break;
        const list = JSON.parse(readFileSync(values.list, 'utf8')) as EndpointList;
        const bootstrap = values.bootstrap?.split(',').filter(Boolean);
        const bundle = signBundle(list, readSigningKey(values.key), bootstrap);
        const text = `${JSON.stringify(bundle, null, 2)}\n`;
        // The bundle holds every relay's ticket, which is handed out selectively: private, 0600.
        if (values.out) writePrivateFile(values.out, text);
        else io.out(text.trimEnd());
        return 0;
      }
      case 'link': {
        if (!values.bundle || !values.id) break;
        const bundle = JSON.parse(readFileSync(values.bundle, 'utf8')) as EndpointBundle;
        const ticket = bundle.tickets?.[values.id];
        if (!ticket) {
          io.err(`error: no relay ${values.id} in ${values.bundle}`);
          return 1;
        }
        io.out(endpointLink(ticket));
        return 0;
      }
    }
  } catch (error) {
    io.err(`error: ${error instanceof CourierError ? `${error.code}: ` : ''}${(error as Error).message}`);
    return 1;
  }
  io.err(USAGE);
  return 2;
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      out: { type: 'string' },
      list: { type: 'string' },
      key: { type: 'string' },
      bootstrap: { type: 'string' },
      bundle: { type: 'string' },
      id: { type: 'string' },
    },
  });
}
