import { writeFileSync } from 'node:fs';
import { configDefaults } from '../packages/server/src/config.ts';

/** Writes docs/config.example.json: every key with its default. A test keeps it in step. */
writeFileSync(
  new URL('../docs/config.example.json', import.meta.url),
  `${JSON.stringify(configDefaults(), null, 2)}\n`,
);
