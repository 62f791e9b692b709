/**
 * What this reader accepts. Files outside these ranges are refused with an UnsupportedError that
 * states the ranges, rather than read and mis-run later.
 */
export const SUPPORTED_IR_VERSIONS = { min: 6, max: 10 } as const;

/** Opset versions of the default domain ('' or 'ai.onnx'). */
export const SUPPORTED_OPSETS = { min: 11, max: 21 } as const;

/**
 * Other operator domains a model may import. onnxruntime implements both, but zipit's
 * architecture plugins only understand default-domain operators inside merge regions.
 */
export const ACCEPTED_EXTRA_DOMAINS: readonly string[] = ['ai.onnx.ml', 'com.microsoft'];

export function describeSupport(): string {
  return (
    `IR versions ${SUPPORTED_IR_VERSIONS.min}–${SUPPORTED_IR_VERSIONS.max}, ai.onnx opsets ${SUPPORTED_OPSETS.min}–${SUPPORTED_OPSETS.max}` +
    ` (plus ${ACCEPTED_EXTRA_DOMAINS.join(' and ')} imports, and domains of model-local functions)`
  );
}
