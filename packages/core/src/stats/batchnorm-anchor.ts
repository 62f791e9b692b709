import { InvalidArgumentError } from '../errors.js';
import { floatAttr, type Graph } from '../graph/graph.js';
import { tensor, type Tensor } from '../tensor/tensor.js';

/**
 * The anchored BatchNorm reset (`--bn-reset anchored`): the reference's reset (running statistics := train-mode
 * statistics of the merge data), shifted by how far each source model's stored statistics sit
 * from its own train-mode statistics on the same data, carried through the same merge.
 *
 * Per BatchNorm channel of the merged model, with μₘ, σ²ₘ its train-mode input statistics on
 * the data (`reset`: the merged model after the reference's reset), r, v the zipped stored
 * statistics (`zipped`: M·r_k, M·v_k) and μ, σ² the zipped train-mode statistics of the sources
 * (`zippedReset`: the sources reset on the same data, zipped with the same transforms: M·μ_k,
 * M·σ²_k):
 *
 *   mean     = μₘ + (r − μ)
 *   variance = (σ²ₘ + ε) · (v + ε) / (σ² + ε) − ε      (clamped at 0)
 *
 * so the merged BatchNorm normalises the merged features the way the sources' normalise theirs
 * on this data. Where the sources' stored statistics equal their train-mode statistics (models
 * trained on data like the merge data) this is the reference's reset; a model merged with itself
 * (μₘ = μ, σ²ₘ = σ²) keeps its stored statistics exactly, whatever they are.
 *
 * All three graphs come from one zip of one structure, so every BatchNormalization of `reset`
 * names its running statistics as in the other two. Returns a copy of `reset`.
 */
export function anchorBatchNormStats(reset: Graph, zipped: Graph, zippedReset: Graph): { graph: Graph; nodes: string[] } {
  const initializers = new Map(reset.initializers);
  const nodes: string[] = [];
  const done = new Set<string>();
  for (const node of reset.nodes) {
    if (node.opType !== 'BatchNormalization' || (node.domain && node.domain !== 'ai.onnx')) continue;
    const [, , , meanName, varName] = node.inputs;
    const key = `${meanName}\u0000${varName}`;
    if (done.has(key)) continue;
    done.add(key);
    const eps = floatAttr(node, 'epsilon', 1e-5);
    const get = (g: Graph, name: string, what: string): ArrayLike<number> => {
      const t = g.initializers.get(name);
      if (!t || t.dtype !== 'float32')
        throw new InvalidArgumentError(`BatchNormalization ${what} "${name}" is not a float32 initializer of every zipped graph`, { node: node.name });
      return t.data as Float32Array;
    };
    const mu = get(reset, meanName, 'running mean');
    const s2 = get(reset, varName, 'running variance');
    const r = get(zipped, meanName, 'running mean');
    const v = get(zipped, varName, 'running variance');
    const muSrc = get(zippedReset, meanName, 'running mean');
    const s2Src = get(zippedReset, varName, 'running variance');
    const n = mu.length;
    if ([s2, r, v, muSrc, s2Src].some((a) => a.length !== n))
      throw new InvalidArgumentError('BatchNormalization statistics differ in length between the zipped graphs', { node: node.name });
    const mean = new Float32Array(n);
    const variance = new Float32Array(n);
    for (let c = 0; c < n; c++) {
      mean[c] = mu[c] + (r[c] - muSrc[c]);
      variance[c] = Math.max(0, ((s2[c] + eps) * (v[c] + eps)) / (s2Src[c] + eps) - eps);
    }
    const shape = (reset.initializers.get(meanName) as Tensor).shape;
    initializers.set(meanName, tensor('float32', shape, mean));
    initializers.set(varName, tensor('float32', (reset.initializers.get(varName) as Tensor).shape, variance));
    nodes.push(node.name);
  }
  return { graph: { ...reset, initializers }, nodes };
}
