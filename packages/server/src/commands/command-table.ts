/**
 * Every `courier-server` command: its name, one line for `--help`, and how to load it. Loading is
 * lazy, so `courier-server --help` starts without the HTTP server, the database drivers or MLS.
 */
export interface LoadedCommand {
  usage: string;
  run(argv: string[]): Promise<number>;
}

export interface CommandEntry {
  name: string;
  aliases?: readonly string[];
  summary: string;
  load(): Promise<LoadedCommand>;
}

const out = (text: string) => console.log(text);
const err = (text: string) => console.error(text);

async function appCommand(name: 'serve' | 'migrate' | 'purge'): Promise<LoadedCommand> {
  const m = await import('./app-commands.ts');
  const usage = { serve: m.SERVE_USAGE, migrate: m.MIGRATE_USAGE, purge: m.PURGE_USAGE }[name];
  return { usage, run: (argv) => m.runAppCommand(name, argv) };
}

export const COMMANDS: readonly CommandEntry[] = [
  {
    name: 'serve',
    summary: 'run the server (API, WebSocket gateway, web app, desk, transparency page)',
    load: () => appCommand('serve'),
  },
  {
    name: 'migrate',
    summary: 'bring the database schema to the newest version and exit',
    load: () => appCommand('migrate'),
  },
  {
    name: 'purge',
    aliases: ['prune'],
    summary: 'apply every retention rule now and print what was removed',
    load: () => appCommand('purge'),
  },
  {
    name: 'desk',
    summary: 'desk accounts: add-staff, add-authority, disable-staff, enable-staff',
    load: async () => {
      const m = await import('./desk-command.ts');
      return { usage: m.USAGE, run: m.runDeskCommand };
    },
  },
  {
    name: 'legal',
    summary: "legal evaluate: print the disclosure policy's decision on a request (stores nothing)",
    load: async () => {
      const [m, { loadConfig }, { openStorage }] = await Promise.all([
        import('./legal-command.ts'),
        import('./load-config.ts'),
        import('../storage/open-storage.ts'),
      ]);
      return {
        usage: m.USAGE,
        run: (argv) =>
          m.runLegalEvaluate(argv, {
            out,
            err,
            storageConfig: (file) => loadConfig(file, process.env).storage,
            openStorage,
            now: () => Date.now(),
          }),
      };
    },
  },
  {
    name: 'transparency',
    summary: 'transparency report|checkpoint|verify: the report, newest checkpoint, log integrity',
    load: async () => {
      const [m, { loadConfig }, { openStorage }, { systemClock }] = await Promise.all([
        import('./transparency-command.ts'),
        import('./load-config.ts'),
        import('../storage/open-storage.ts'),
        import('../deps.ts'),
      ]);
      return {
        usage: m.USAGE,
        run: (argv) =>
          m.runTransparencyCommand(argv, {
            out,
            err,
            config: (file) => loadConfig(file, process.env),
            openStorage,
            clock: systemClock,
            env: process.env,
          }),
      };
    },
  },
  {
    name: 'endpoints',
    summary: 'endpoints keygen|sign|link: the offline-signed endpoint list (docs/censorship.md)',
    load: async () => {
      const m = await import('./endpoints-command.ts');
      return { usage: m.USAGE, run: (argv) => m.runEndpointsCommand(argv, { out, err }) };
    },
  },
  {
    name: 'relay',
    summary: 'run a relay that forwards opaque client traffic to a core',
    load: async () => {
      const [m, { default: pino }] = await Promise.all([import('./relay-command.ts'), import('pino')]);
      return { usage: m.USAGE, run: (argv) => m.runRelayCommand(argv, pino({ level: 'info' })) };
    },
  },
];

export function findCommand(name: string): CommandEntry | undefined {
  return COMMANDS.find((c) => c.name === name || c.aliases?.includes(name));
}

export function helpText(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'usage: courier-server <command> [options]        courier-server <command> --help for its options',
    '',
    'commands:',
    ...COMMANDS.map(
      (c) => `  ${c.name.padEnd(width)}  ${c.summary}${c.aliases ? ` (alias: ${c.aliases.join(', ')})` : ''}`,
    ),
    '',
    'config: a JSON file named by --config or COURIER_CONFIG (docs/config.example.json), then these',
    'environment overrides: COURIER_DEV=1, COURIER_DATA_DIR, COURIER_HOST, COURIER_PORT,',
    'COURIER_LOG_LEVEL, COURIER_LOG_FORMAT (json|pretty; pretty by default at a terminal),',
    'COURIER_DATABASE_URL (PostgreSQL), COURIER_SQLITE_PATH, COURIER_NATS_URL (comma-separated),',
    'COURIER_SMS_OUTBOX, COURIER_TRANSPARENCY_KEY, COURIER_CERTIFICATION_KEY (key file paths).',
    'A start-up failure prints one line, `error CODE: sentence`, and exits 1 (2 for a usage error).',
  ].join('\n');
}
