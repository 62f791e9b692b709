import type { BatchNormReset } from '@zipit/pipeline';
import { UsageError } from './command.js';

/** The BatchNorm reset flags of `merge` and `sweep` (parseArgs options). */
export const BN_RESET_OPTIONS = {
  'bn-reset': { type: 'string' },
  'reset-bn': { type: 'boolean' },
  'no-reset-bn': { type: 'boolean' },
} as const;

export const BN_RESET_HELP = `  --bn-reset MODE     how a zipped model's BatchNorm statistics are re-estimated on the merge
                      data: reference (default: the reference's reset, stored statistics
                      replaced by the data's; skipped when the zip reproduces its inputs, e.g. a
                      model merged with itself) or anchored (the reference's reset shifted by
                      how far each input's stored statistics sit from its own on the data;
                      exact on a self-merge by construction; one more pass per input)
  --no-reset-bn       keep the zipped BatchNorm statistics (--reset-bn: the default)`;

const MODES: readonly BatchNormReset[] = ['reference', 'anchored'];

/** `false` (keep the zipped statistics) or how to re-estimate them. */
export function parseBatchNormReset(values: { 'bn-reset'?: string; 'reset-bn'?: boolean; 'no-reset-bn'?: boolean }): false | BatchNormReset {
  const mode = values['bn-reset'];
  if (values['reset-bn'] && values['no-reset-bn']) throw new UsageError('give either --reset-bn or --no-reset-bn, not both');
  if (mode !== undefined && values['no-reset-bn']) throw new UsageError(`give either --bn-reset ${mode} or --no-reset-bn, not both`);
  if (mode !== undefined && !MODES.includes(mode as BatchNormReset)) throw new UsageError(`--bn-reset: unknown mode "${mode}" (valid: ${MODES.join(', ')})`);
  if (values['no-reset-bn']) return false;
  return (mode as BatchNormReset | undefined) ?? 'reference';
}
