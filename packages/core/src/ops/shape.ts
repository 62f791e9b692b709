import { getAttribute, intAttr } from '../graph/graph.js';
import type { OperatorDef, ShapeInference } from './operator.js';
import { constantNodeValue, isNum, normAxisClamp, productDims, tensorConst, type ConstValue } from './shape-math.js';

/**
 * Operators that make shapes and constants rather than features: Shape and Size (their outputs
 * describe shapes whatever their inputs, so merging never follows them) and Constant /
 * ConstantOfShape, whose contents feed the Reshape targets PyTorch computes at run time.
 */

/** Shape: the input's dims [start, end) as a 1-d constant (symbolic dims included). */
export const shapeShape: ShapeInference = (node, ctx) => {
  const x = ctx.shape(node.inputs[0]);
  if (!x) return { shapes: [null] };
  const start = normAxisClamp(intAttr(node, 'start', 0), x.length);
  const end = getAttribute(node, 'end') ? normAxisClamp(intAttr(node, 'end', x.length), x.length) : x.length;
  const values = x.slice(start, Math.max(start, end));
  return { shapes: [[values.length]], constants: [{ shape: [values.length], values }] };
};

/** Size: the input's element count as a scalar constant. */
export const sizeShape: ShapeInference = (node, ctx) => {
  const x = ctx.shape(node.inputs[0]);
  return { shapes: [[]], constants: [x ? { shape: [], values: [productDims(x)] } : undefined] };
};

/** Constant: its value (tensor or value_int(s)/value_float(s)). */
export const constantShape: ShapeInference = (node) => {
  const c = constantNodeValue(node);
  return { shapes: [c ? c.shape : null], constants: [c] };
};

/** ConstantOfShape: a tensor of the shape given by its input, filled with `value` (default 0). */
export const constantOfShape: ShapeInference = (node, ctx) => {
  const s = ctx.constant(node.inputs[0]);
  if (!s) return { shapes: [null] };
  const v = getAttribute(node, 'value');
  const fill = v && v.type === 'tensor' ? (tensorConst(v.value)?.values[0] ?? 0) : 0;
  const shape = s.values;
  const constant: ConstValue | undefined = shape.every(isNum)
    ? { shape: shape as number[], values: new Array(productDims(shape) as number).fill(fill) }
    : undefined;
  return { shapes: [shape], constants: [constant] };
};

/** Shape readers and constant makers. */
export const shapeOperators: readonly OperatorDef[] = [
  { opType: 'Shape', role: 'shape', infer: shapeShape },
  { opType: 'Size', role: 'shape', infer: sizeShape },
  { opType: 'Constant', role: 'constant', infer: constantShape },
  { opType: 'ConstantOfShape', role: 'constant', infer: constantOfShape },
];
