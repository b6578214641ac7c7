import { readFileSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { HttpSmsSender } from './http/http-sms-sender.ts';
import { LogSmsSender } from './log/log-sms-sender.ts';
import { openSms } from './open-sms.ts';

async function gateway(status: number) {
  const received: { headers: IncomingMessage['headers']; body: unknown }[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => {
      body += d;
    });
    req.on('end', () => {
      received.push({ headers: req.headers, body: JSON.parse(body) });
      res.statusCode = status;
      res.end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/send`;
  return { url, received, close: () => new Promise<void>((r) => server.close(() => r())) };
}

describe('SMS adapters', () => {
  const dir = mkdtempSync(join(tmpdir(), 'courier-sms-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('posts to an HTTP gateway with the bearer credential', async () => {
    const gw = await gateway(202);
    try {
      await new HttpSmsSender({ url: gw.url, credential: 's3cret', sender: 'Courier', timeoutMs: 2000 }).send(
        '+441234567890',
        'code 123456',
      );
      expect(gw.received).toEqual([
        {
          headers: expect.objectContaining({
            authorization: 'Bearer s3cret',
            'content-type': 'application/json',
          }),
          body: { from: 'Courier', to: '+441234567890', text: 'code 123456' },
        },
      ]);
    } finally {
      await gw.close();
    }
  });

  it('fails when the gateway refuses', async () => {
    const gw = await gateway(500);
    try {
      const sender = new HttpSmsSender({ url: gw.url, credential: 'x', sender: 'Courier', timeoutMs: 2000 });
      await expect(sender.send('+441234567890', 'code')).rejects.toThrow(/500/);
    } finally {
      await gw.close();
    }
  });

  it('reads the gateway credential from the environment variable the config names, never the config', () => {
    const config = {
      kind: 'http' as const,
      url: 'http://127.0.0.1:1/x',
      credentialEnv: 'SMS_TOKEN',
      sender: 'C',
      timeoutMs: 1,
    };
    expect(() => openSms(config, pino({ level: 'silent' }), {}, false)).toThrow(/SMS_TOKEN/);
    expect(openSms(config, pino({ level: 'silent' }), { SMS_TOKEN: 't' }, false)).toBeInstanceOf(
      HttpSmsSender,
    );
  });

  it('refuses the development adapter unless development mode is explicit, and then warns loudly', () => {
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(line) });
    expect(() => openSms({ kind: 'log' }, logger, {}, false)).toThrow(
      expect.objectContaining({ code: 'SERVER_DEV_ONLY' }),
    );
    expect(lines).toEqual([]);
    expect(openSms({ kind: 'log' }, logger, {}, true)).toBeInstanceOf(LogSmsSender);
    expect(lines.join('')).toMatch(/DEVELOPMENT MODE.*every verification code and phone number/);
  });

  it('development adapter: logs, marked as such, and appends to the outbox file', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(line) });
    const outbox = join(dir, 'outbox.jsonl');
    await new LogSmsSender(logger, outbox).send('+441234567890', 'Your Courier code is 424242.');
    expect(lines.join('')).toContain('[DEVELOPMENT SMS ADAPTER]');
    expect(JSON.parse(readFileSync(outbox, 'utf8').trim())).toMatchObject({
      to: '+441234567890',
      text: 'Your Courier code is 424242.',
    });
    // Codes and phone numbers: the outbox is the server user's alone.
    expect(statSync(outbox).mode & 0o777).toBe(0o600);
  });
});
