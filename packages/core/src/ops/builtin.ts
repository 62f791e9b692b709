import { elementwiseOperators } from './elementwise.js';
import { layoutOperators } from './layout.js';
import { linearOperators } from './linear.js';
import { normalizationOperators } from './normalization.js';
import type { OperatorDef } from './operator.js';
import { poolingOperators } from './pooling.js';
import { OperatorRegistry } from './registry.js';
import { shapeOperators } from './shape.js';

/** Every built-in operator definition, family by family. */
export const builtinOperatorDefs: readonly OperatorDef[] = [
  ...linearOperators,
  ...elementwiseOperators,
  ...normalizationOperators,
  ...poolingOperators,
  ...layoutOperators,
  ...shapeOperators,
];

/** A fresh registry of the built-in operators (default ONNX domain), ready for plugins to add theirs. */
export function builtinOperators(): OperatorRegistry {
  return new OperatorRegistry(builtinOperatorDefs);
}

/** The built-in operators, used when no registry is given (do not register into it: take `builtinOperators()`). */
export const defaultOperators: OperatorRegistry = builtinOperators();
