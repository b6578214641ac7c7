/**
 * courier-server: the only place that reads the command line; `courier-server --help` lists every
 * command (commands/command-table.ts) and `courier-server <command> --help` its options. Nothing
 * starts a server unless the command is `serve`.
 */
import { findCommand, helpText } from './commands/command-table.ts';

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    const text = helpText();
    if (name === undefined) console.error(text);
    else console.log(text);
    return name === undefined ? 2 : 0;
  }
  const entry = findCommand(name);
  if (!entry) {
    console.error(`error: unknown command "${name}"\n\n${helpText()}`);
    return 2;
  }
  const command = await entry.load();
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(command.usage);
    return 0;
  }
  return command.run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  async (error: unknown) => {
    // One line an operator can act on: a typed failure names its code; anything else its message.
    // The catalog loads only here, so that `--help` starts without the protocol package.
    const { CourierError } = await import('@courier/protocol');
    if (error instanceof CourierError) console.error(`error ${error.code}: ${error.message}`);
    else {
      console.error(error instanceof Error ? `error: ${error.message}` : error);
      if (error instanceof Error && error.cause)
        console.error(`  cause: ${error.cause instanceof Error ? error.cause.message : String(error.cause)}`);
    }
    process.exit(1);
  },
);
