/**
 * A request that fails its JSON schema, said in a sentence a person can act on: the field by name
 * and what it must be, never the validator's wording (`body/code must match pattern "^[0-9]+$"`).
 */

/** One failure as Fastify's validator (Ajv) reports it; only the parts read here. */
export interface SchemaFailure {
  keyword: string;
  instancePath: string;
  params: Record<string, unknown>;
}

const where: Record<string, string> = {
  body: 'the request',
  querystring: 'the query',
  params: 'the path',
  headers: 'the headers',
};

function fieldOf(failure: SchemaFailure): string {
  const path = failure.instancePath
    .split('/')
    .filter(Boolean)
    .map((part) => (/^\d+$/.test(part) ? `[${part}]` : `.${part}`))
    .join('')
    .replace(/^\./, '');
  return path === '' ? 'it' : path;
}

const plural = (n: unknown, one: string) => `${n} ${one}${n === 1 ? '' : 's'}`;

function sentence(failure: SchemaFailure): string {
  const field = fieldOf(failure);
  const p = failure.params;
  switch (failure.keyword) {
    case 'required':
      return `${field === 'it' ? '' : `${field}.`}${String(p.missingProperty)} is missing`;
    case 'additionalProperties':
      return `${String(p.additionalProperty)} is not a field ${field === 'it' ? 'it has' : `of ${field}`}`;
    case 'maxLength':
      return `${field} is too long (at most ${plural(p.limit, 'character')})`;
    case 'minLength':
      return `${field} is too short (at least ${plural(p.limit, 'character')})`;
    case 'maxItems':
      return `${field} has too many entries (at most ${p.limit})`;
    case 'minItems':
      return `${field} has too few entries (at least ${p.limit})`;
    case 'maxProperties':
    case 'minProperties':
      return `${field} has ${failure.keyword === 'maxProperties' ? 'too many' : 'too few'} fields`;
    case 'maximum':
    case 'exclusiveMaximum':
      return `${field} is too large (at most ${p.limit})`;
    case 'minimum':
    case 'exclusiveMinimum':
      return `${field} is too small (at least ${p.limit})`;
    case 'enum':
      return Array.isArray(p.allowedValues) && p.allowedValues.length <= 12
        ? `${field} is one of: ${p.allowedValues.map((v) => JSON.stringify(v)).join(', ')}`
        : `${field} is not one of the allowed values`;
    case 'const':
      return `${field} has a value that is not allowed`;
    case 'type':
      return `${field} must be ${/^[aeiou]/.test(String(p.type)) ? 'an' : 'a'} ${String(p.type).replaceAll(',', ' or ')}`;
    case 'pattern':
    case 'format':
      return `${field} is not in the expected form`;
    default:
      return `${field} is not valid`;
  }
}

/** "The request is not valid: displayName is too long (at most 256 characters)." */
export function validationMessage(failures: readonly SchemaFailure[], context: string | undefined): string {
  const place = where[context ?? 'body'] ?? 'the request';
  const parts = [...new Set(failures.slice(0, 3).map(sentence))];
  return `${place[0]!.toUpperCase()}${place.slice(1)} is not valid: ${parts.join('; ') || 'it does not have the expected shape'}.`;
}
