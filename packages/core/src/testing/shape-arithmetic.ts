import { GraphBuilder } from '../graph/builder.js';
import type { AttributeValue, Graph } from '../graph/graph.js';
import { tensor, type DType } from '../tensor/tensor.js';

const int = (value: number): AttributeValue => ({ type: 'int', value });

/**
 * Shape arithmetic as PyTorch exports it with a dynamic batch, on a fixed input `x` [1, 7, 4]
 * (opset 14, constants as initializers), for constant folding (`foldConstants`) to evaluate
 * and onnxruntime to check. Outputs:
 * - `tokens` [1, 8, 4]: `token.expand(1, -1, -1)` (the `ConstantOfShape → Mul → Equal → Where`
 *   lowering; target folds to [1, 1, 1]) concatenated with `x`;
 * - `ints` int64 [5]: `7 // 2` = 3, `-7 / 2` = -3 (integer Div truncates toward zero), and
 *   `Range(0, 7, 3)` reversed by a Slice with step -1 = [6, 3, 0];
 * - `y` [1, 7, 4]: `x` reshaped to [1, n, -1] where n = int(7 / 2.0) + 7 // 2 + 1 = 7
 *   (a Cast to float, a float scalar Div, a Cast back that truncates).
 */
export function buildShapeArithmetic(): Graph {
  const b = new GraphBuilder({ opset: 14, constants: 'initializer' });
  const x = b.input('x', [1, 7, 4]);
  const token = b.parameter('token', tensor('float32', [1, 1, 4], Float32Array.of(1, 2, 3, 4)));
  const i64 = (v: number[], shape = [v.length]) => b.constant(tensor('int64', shape, BigInt64Array.from(v.map(BigInt))));
  const node = (op: string, ins: string[], dtype: DType, attributes: Record<string, AttributeValue> = {}) =>
    b.node(op, ins, { attributes, dtypes: [dtype] })[0];
  const seven = node('Gather', [node('Shape', [x], 'int64'), i64([1], [])], 'int64', { axis: int(0) });
  const half = node('Div', [seven, i64([2], [])], 'int64');
  const neg = node('Div', [node('Neg', [seven], 'int64'), i64([2], [])], 'int64');
  const asFloat = node('Cast', [seven], 'float32', { to: int(1) });
  const back = node('Cast', [node('Div', [asFloat, b.constant(tensor('float32', [], Float32Array.of(2)))], 'float32')], 'int64', { to: int(7) });
  const range = node('Range', [i64([0], []), seven, i64([3], [])], 'int64');
  const reversed = node('Slice', [range, i64([-1]), i64([-(2 ** 62)]), i64([0]), i64([-1])], 'int64');
  const target = i64([1, -1, -1]);
  const ones = node('ConstantOfShape', [i64([3])], 'int64', { value: { type: 'tensor', value: tensor('int64', [1], BigInt64Array.of(1n)) } });
  const minus = node('Mul', [ones, i64([-1], [])], 'int64');
  const picked = node('Where', [node('Equal', [target, minus], 'bool'), ones, target], 'int64');
  const expanded = node('Expand', [token, picked], 'float32');
  b.output(node('Concat', [expanded, x], 'float32', { axis: int(1) }), 'tokens');
  const unsqueeze = (v: string) => node('Unsqueeze', [v, i64([0])], 'int64');
  b.output(node('Concat', [unsqueeze(half), unsqueeze(neg), reversed], 'int64', { axis: int(0) }), 'ints');
  const n = node('Add', [node('Add', [back, half], 'int64'), i64([1], [])], 'int64');
  b.output(node('Reshape', [x, node('Concat', [i64([1]), unsqueeze(n), i64([-1])], 'int64', { axis: int(0) })], 'float32'), 'y');
  return b.build();
}
