import { mlsExporter } from 'ts-mls';
import type { MlsClientContext } from './mls-context.ts';
import { MlsError, toMlsError } from './mls-error.ts';
import type { MlsGroup } from './mls-group.ts';

/**
 * MLS-Exporter(label, context, length) of the group's current epoch (RFC 9420 §8.5): a secret every member
 * at this epoch derives alike and nobody else can. It changes with every epoch.
 */
export async function exportSecret(
  context: MlsClientContext,
  group: MlsGroup,
  label: string,
  exporterContext: Uint8Array,
  length: number,
): Promise<Uint8Array> {
  if (!group.active) throw new MlsError('MLS_NOT_MEMBER', 'this device is no longer a member of the group');
  if (!Number.isInteger(length) || length < 1 || length > 255 * 32) {
    throw new MlsError('MLS_INVALID_ARGUMENT', 'an exported secret has 1 to 8,160 bytes');
  }
  try {
    return await mlsExporter(
      group.state.keySchedule.exporterSecret,
      label,
      exporterContext,
      length,
      context.library.cipherSuite,
    );
  } catch (cause) {
    throw toMlsError('MLS_OPERATION_FAILED', 'could not export a secret', cause);
  }
}
