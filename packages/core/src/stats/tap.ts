import { NotFoundError, UnsupportedError } from '../errors.js';
import type { Graph, GraphBody, ValueInfo } from '../graph/graph.js';

/** Graph inputs fed with data: inputs that are not also initializers (IR < 4 exports list weights as inputs). */
export function dataInputs(graph: GraphBody): ValueInfo[] {
  return graph.inputs.filter((i) => !graph.initializers.has(i.name));
}

/** The single data input of a model, or a typed error naming the ones found. */
export function singleDataInput(graph: GraphBody, file?: string): ValueInfo {
  const inputs = dataInputs(graph);
  if (inputs.length !== 1) {
    throw new UnsupportedError(`the model has ${inputs.length} data inputs (${inputs.map((i) => i.name).join(', ') || 'none'}); batches feed exactly one`, {
      file,
    });
  }
  return inputs[0];
}

/** Every value name of the main graph: data inputs, initializers and node outputs. */
export function valueNames(graph: GraphBody): Set<string> {
  const names = new Set<string>();
  for (const i of graph.inputs) names.add(i.name);
  for (const k of graph.initializers.keys()) names.add(k);
  for (const n of graph.nodes) for (const o of n.outputs) if (o) names.add(o);
  return names;
}

/**
 * A copy of `graph` that also outputs the named values (intermediate activations, inputs or
 * parameters), so one run can fetch them. The copy shares nodes and weights with the original.
 * A name that is not a value of the main graph is a NotFoundError that suggests close names.
 */
export function tapValues(graph: Graph, names: readonly string[], opts: { file?: string } = {}): Graph {
  const known = valueNames(graph);
  const outputs = [...graph.outputs];
  const present = new Set(outputs.map((o) => o.name));
  for (const name of names) {
    assertValue(known, name, opts);
    if (present.has(name)) continue;
    present.add(name);
    outputs.push({ name, dtype: dtypeOf(graph, name), shape: null });
  }
  return { ...graph, outputs };
}

/**
 * Throws NotFoundError unless `name` is in `known` (from {@link valueNames}), suggesting close
 * names; `what` describes the model in the message (e.g. `model 1`).
 */
export function assertValue(known: Set<string>, name: string, ctx: { file?: string; space?: string; what?: string } = {}): void {
  if (known.has(name)) return;
  const close = closestNames(name, known, 3);
  throw new NotFoundError(`value "${name}" does not exist in ${ctx.what ?? 'the model'}`, {
    file: ctx.file,
    space: ctx.space,
    hint: close.length ? `did you mean ${close.map((c) => `"${c}"`).join(', ')}?` : 'tap a node output, a graph input or an initializer',
  });
}

function dtypeOf(graph: Graph, name: string): ValueInfo['dtype'] {
  const info = graph.valueInfo.find((v) => v.name === name) ?? graph.inputs.find((v) => v.name === name) ?? graph.outputs.find((v) => v.name === name);
  if (info?.dtype) return info.dtype;
  return graph.initializers.get(name)?.dtype ?? null;
}

function closestNames(name: string, known: Set<string>, count: number): string[] {
  const scored: [number, string][] = [];
  const limit = Math.max(3, Math.floor(name.length / 3));
  for (const k of known) {
    const d = editDistance(name, k, limit);
    if (d <= limit) scored.push([d, k]);
  }
  scored.sort((a, b) => a[0] - b[0] || (a[1] < b[1] ? -1 : 1));
  return scored.slice(0, count).map(([, k]) => k);
}

/** Levenshtein distance, giving up (returning limit + 1) once it must exceed `limit`. */
function editDistance(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  let prev = new Int32Array(b.length + 1);
  let cur = new Int32Array(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    cur[0] = i;
    let rowMin = cur[0];
    for (let j = 1; j <= b.length; j++) {
      const cost = a.charCodeAt(i - 1) === b.charCodeAt(j - 1) ? 0 : 1;
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost);
      if (cur[j] < rowMin) rowMin = cur[j];
    }
    if (rowMin > limit) return limit + 1;
    [prev, cur] = [cur, prev];
  }
  return prev[b.length];
}
