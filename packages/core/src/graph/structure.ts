import { MismatchError } from '../errors.js';
import type { Graph } from './graph.js';

/**
 * The first structural difference between two models that are meant to share an architecture
 * (same operators in the same order, same parameter names and shapes, same input shapes), or
 * null. Weights may differ; that is the point of merging.
 */
export function structureDifference(a: Graph, b: Graph, opts: { anyShape?: ReadonlySet<string> } = {}): string | null {
  const inA = a.inputs.filter((i) => !a.initializers.has(i.name));
  const inB = b.inputs.filter((i) => !b.initializers.has(i.name));
  if (inA.length !== inB.length) return `${inA.length} inputs vs ${inB.length}`;
  for (let i = 0; i < inA.length; i++) {
    const sa = JSON.stringify(inA[i].shape?.map((d) => (typeof d === 'number' ? d : '?')));
    const sb = JSON.stringify(inB[i].shape?.map((d) => (typeof d === 'number' ? d : '?')));
    if (sa !== sb) return `input ${inA[i].name} has shape ${sa} vs ${sb}`;
  }
  if (a.nodes.length !== b.nodes.length) return `${a.nodes.length} nodes vs ${b.nodes.length}`;
  for (let i = 0; i < a.nodes.length; i++) {
    const na = a.nodes[i];
    const nb = b.nodes[i];
    if (na.opType !== nb.opType) return `node ${i} (${na.name || na.opType}) is ${na.opType} vs ${nb.opType} (${nb.name || nb.opType})`;
  }
  const pa = [...a.initializers.keys()];
  for (const name of pa) {
    const ta = a.initializers.get(name)!;
    const tb = b.initializers.get(name);
    if (!tb) return `parameter ${name} is missing in the second model`;
    if (opts.anyShape?.has(name)) continue;
    if (ta.shape.length !== tb.shape.length || ta.shape.some((d, i) => d !== tb.shape[i])) {
      return `parameter ${name} has shape [${ta.shape.join(', ')}] vs [${tb.shape.join(', ')}]`;
    }
  }
  for (const name of b.initializers.keys()) if (!a.initializers.has(name)) return `parameter ${name} is missing in the first model`;
  return null;
}

/**
 * Throws MismatchError naming both files and the first difference unless all models share one
 * structure. `anyShape` lists parameters whose shapes may differ (task heads with their own
 * class counts).
 */
export function assertSameStructure(graphs: readonly Graph[], files: readonly string[], opts: { anyShape?: ReadonlySet<string> } = {}): void {
  for (let k = 1; k < graphs.length; k++) {
    const diff = structureDifference(graphs[0], graphs[k], opts);
    if (diff) {
      throw new MismatchError(`${files[0]} and ${files[k]} are not the same architecture: ${diff}`, {
        hint: 'ZipIt merges models of one architecture and width, trained from different inits',
      });
    }
  }
}
