import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../packages/server/src/commands/command-table.ts';

const root = fileURLToPath(new URL('..', import.meta.url));

function server(...args: string[]) {
  const result = spawnSync(process.execPath, ['packages/server/bin/courier-server.js', ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 60_000,
    // A command that wrongly started serving would hold the port and time out: give it a free one.
    env: { ...process.env, COURIER_PORT: '0', COURIER_DATA_DIR: '/nonexistent/courier-help-test' },
  });
  return { code: result.status, out: result.stdout, err: result.stderr };
}

describe('courier-server, as an operator meets it', () => {
  it('--help lists every command', () => {
    const { code, out } = server('--help');
    expect(code).toBe(0);
    for (const command of COMMANDS) expect(out).toMatch(new RegExp(`^  ${command.name} `, 'm'));
  });

  it.each(COMMANDS.map((c) => c.name))('%s --help prints its own usage and starts nothing', (name) => {
    const { code, out, err } = server(name, '--help');
    expect(code).toBe(0);
    expect(out).toMatch(new RegExp(`usage:\\s+(?:COURIER_DESK_PASSWORD=… )?courier-server ${name}\\b`));
    expect(err).not.toMatch(/listening/i);
  });

  it('with no command, or an unknown one, prints the list and exits 2 without serving', () => {
    for (const args of [[], ['serv']]) {
      const { code, err } = server(...args);
      expect(code).toBe(2);
      expect(err).toContain('commands:');
      expect(err).not.toMatch(/listening/i);
    }
  });
});
