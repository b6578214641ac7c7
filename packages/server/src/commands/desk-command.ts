import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { buildApp } from '../app/build-app.ts';
import { systemClock } from '../deps.ts';
import type { DeskRole } from '../storage/ports.ts';
import { loadConfig, noSms } from './load-config.ts';

export const USAGE = `usage: COURIER_DESK_PASSWORD=… courier-server desk add-staff <username> --name N --roles intake,reviewer,approver,auditor,moderator [--config file.json]
       COURIER_DESK_PASSWORD=… courier-server desk add-authority <username> --name N --country CC --kind court|prosecutor|police|security_service
       courier-server desk disable-staff|enable-staff <username>   (disabling ends its sessions)
  creates a desk account (staff are verified, and authorities verified out of band, first) and prints
  the TOTP secret to enrol in an authenticator app, and an enrolment link (append it to the server's
  address, hand it over privately) that shows the secret as a QR code to scan`;

/** Operator commands for desk accounts. */
export async function runDeskCommand(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  const { positionals, values } = parsed;
  const [sub, username] = positionals;
  const password = process.env.COURIER_DESK_PASSWORD;
  const toggle = sub === 'disable-staff' || sub === 'enable-staff';
  if (
    !username ||
    (!toggle && ((sub !== 'add-staff' && sub !== 'add-authority') || !values.name || !password))
  ) {
    console.error(USAGE);
    return 2;
  }
  const config = loadConfig(values.config, process.env);
  const app = await buildApp(
    { ...config, logLevel: 'error' },
    {
      clock: systemClock,
      random: (n) => randomBytes(n),
      logger: pino({ level: 'error' }),
      sms: noSms,
      env: process.env,
    },
  );
  if (toggle) {
    try {
      const account = await app.desk.setDisabled(username, sub === 'disable-staff');
      if (!account) {
        console.error(`error: no desk account ${username}`);
        return 1;
      }
      console.log(
        JSON.stringify({
          username: account.username,
          kind: account.kind,
          disabled: account.disabledAt !== null,
        }),
      );
      return 0;
    } finally {
      await app.close();
    }
  }
  try {
    const created = await app.desk.createAccount({
      kind: sub === 'add-staff' ? 'staff' : 'authority',
      username,
      displayName: values.name!,
      password: password!,
      roles: (values.roles ?? '').split(',').filter(Boolean) as DeskRole[],
      ...(values.country ? { country: values.country } : {}),
      ...(values.kind ? { authorityKind: values.kind } : {}),
    });
    console.log(JSON.stringify(created, null, 2));
    return 0;
  } catch (error) {
    console.error(`error: ${(error as Error).message}`);
    return 1;
  } finally {
    await app.close();
  }
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      name: { type: 'string' },
      roles: { type: 'string' },
      country: { type: 'string' },
      kind: { type: 'string' },
      config: { type: 'string' },
    },
  });
}
