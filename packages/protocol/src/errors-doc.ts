import { errorCatalog } from './errors.ts';

/** Renders `docs/errors.md` from the catalog; a test keeps the file in step. */
export function renderErrorsDoc(): string {
  const rows = Object.entries(errorCatalog).map(
    ([code, { status, message }]) => `| \`${code}\` | ${status} | ${message} |`,
  );
  return [
    '# Error codes',
    '',
    'Generated from `packages/protocol/src/errors.ts` by `npm run gen:errors-doc`; a test fails when this file',
    'and the catalog differ. HTTP failures carry `{ "error": { "code", "message", "details"? } }`; WebSocket',
    'failures an `error` frame with the same code (or a `goodbye` frame before the server closes).',
    '',
    '| code | HTTP status | meaning |',
    '|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}
