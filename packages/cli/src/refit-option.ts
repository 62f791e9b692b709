import type { RefitOptions } from '@zipit/pipeline';
import { parseNumberFlag, UsageError } from './command.js';

/** The least-squares refit flags of `merge` (parseArgs options). */
export const REFIT_OPTIONS = {
  refit: { type: 'boolean' },
  'refit-ridge': { type: 'string' },
  'no-refit-heads': { type: 'boolean' },
} as const;

/** Ridge of `--refit` when `--refit-ridge` is not given: the best of the ViT ablation (packages/arch-vit/README.md). */
export const DEFAULT_REFIT_RIDGE = 1e-3;

export const REFIT_HELP = `  --refit             after zipping, refit the zipped layers by least squares on the merge data
                      (PLeaS-style: each layer, in graph order, solved so the merged model's
                      own input to it gives the zip of the models' outputs, pulled towards
                      the zipped weights); after a partial stop, each model's unmerge (a
                      ViT's first per-model junction) so it decodes that model's own stream
                      from the merged one; then each model's head on that model's own
                      logits. Needs the merge data again: one pass per model and one of the
                      merged model per layer. Measured on ViTs (the only architecture that
                      declares its layers; others are refused)
  --refit-ridge R     the pull towards the zipped weights, relative to E[x²] of a layer's
                      inputs (default ${DEFAULT_REFIT_RIDGE}; 0: plain least squares)
  --no-refit-heads    refit the zipped layers only, keep the heads`;

/** The refit the flags ask for, or undefined without `--refit`. */
export function parseRefit(values: { refit?: boolean; 'refit-ridge'?: string; 'no-refit-heads'?: boolean }): RefitOptions | undefined {
  if (!values.refit) {
    if (values['refit-ridge'] !== undefined || values['no-refit-heads']) throw new UsageError('--refit-ridge and --no-refit-heads go with --refit');
    return undefined;
  }
  const ridge = parseNumberFlag(values['refit-ridge'], '--refit-ridge', DEFAULT_REFIT_RIDGE, { min: 0, max: 1e6 });
  return { ridge, heads: !values['no-refit-heads'] };
}
