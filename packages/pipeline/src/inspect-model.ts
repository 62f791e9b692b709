import {
  attachFile,
  deriveMergeGraph,
  diffMergeGraphs,
  surveyArchitectures,
  ZipitError,
  type Architecture,
  type ArchitectureRegistry,
  type Graph,
  type MergeGraph,
  type OperatorRegistry,
} from '@zipit/core';

/** What `zipit inspect` found out about a model (also its `--json` output). */
export interface Inspection {
  file: string;
  model: { nodes: number; parameters: number; inputs: string[]; outputs: string[] };
  /** The recognising plugin, or null when none did (the merge graph is then derived automatically). */
  architecture: { name: string; variant: string; summary: string } | null;
  /** Why each plugin asked before the recognising one (all of them when none recognised the model) declined. */
  declined: { architecture: string; reason: string }[];
  /** Where the merge graph shown comes from. */
  source: 'declared' | 'derived';
  /** Whether the plugin's `prepare` rewrite (function-preserving) was applied first, as merging does. */
  prepared: boolean;
  /** Declared vs derived, one line per difference (empty: they agree); null when one of them could not be computed. */
  differences: string[] | null;
  /** Why the automatic derivation failed, when the plugin's declaration is shown instead. */
  derivationError?: string;
  mergeGraph: MergeGraph;
}

/** Recognises the architecture, declares or derives the merge graph (following `operators`), and compares the two. */
export function inspectGraph(graph: Graph, file: string, registry: ArchitectureRegistry, operators?: OperatorRegistry): Inspection {
  const { found, declined } = surveyArchitectures(registry, graph);
  const arch: Architecture | undefined = found?.arch;
  const prepared = arch?.prepare !== undefined;
  const target = arch?.prepare ? arch.prepare(graph) : graph;
  let derived: MergeGraph | undefined;
  let derivationError: string | undefined;
  try {
    derived = deriveMergeGraph(target, { operators });
  } catch (e) {
    if (!arch || !(e instanceof ZipitError)) throw attachFile(e, file);
    derivationError = e.message;
  }
  const model = {
    nodes: graph.nodes.length,
    parameters: [...graph.initializers.values()].reduce((n, t) => n + t.data.length, 0),
    inputs: graph.inputs.filter((i) => !graph.initializers.has(i.name)).map((i) => `${i.name} [${(i.shape ?? []).map((d) => d ?? '?').join(', ')}]`),
    outputs: graph.outputs.map((o) => o.name),
  };
  if (!found || !arch) {
    return { file, model, architecture: null, declined, source: 'derived', prepared, differences: null, mergeGraph: derived! };
  }
  const declared = arch.mergeGraph(target);
  return {
    file,
    model,
    architecture: { name: arch.name, variant: found.variant, summary: found.summary },
    declined,
    source: 'declared',
    prepared,
    differences: derived ? diffMergeGraphs(declared, derived) : null,
    ...(derivationError === undefined ? {} : { derivationError }),
    mergeGraph: declared,
  };
}

/** The human-readable report, one line per entry. */
export function formatInspection(r: Inspection): string[] {
  const out: string[] = [];
  const mg = r.mergeGraph;
  out.push(
    `model: ${r.file}: ${r.model.nodes} nodes, ${r.model.parameters.toLocaleString('en-US')} parameters; input ${r.model.inputs.join(', ')}; output ${r.model.outputs.join(', ')}`,
  );
  if (r.architecture) {
    out.push(`architecture: ${r.architecture.name} (${r.architecture.variant}): ${r.architecture.summary}`);
    if (r.prepared)
      out.push(
        `prepared: the ${r.architecture.name} plugin rewrites the model first (same function, more stop points); points below are of the rewritten model`,
      );
    if (r.differences && r.differences.length === 0) {
      out.push(`merge graph: declared by the ${r.architecture.name} plugin; the automatic derivation agrees`);
    } else if (r.differences) {
      out.push(`merge graph: declared by the ${r.architecture.name} plugin; the automatic derivation differs (${r.differences.length}):`);
      for (const d of r.differences) out.push(`  ${d}`);
    } else {
      out.push(`merge graph: declared by the ${r.architecture.name} plugin; the automatic derivation failed: ${r.derivationError}`);
    }
  } else {
    out.push('architecture: unknown: derived automatically');
    if (r.declined.length === 0) out.push('  (no architecture plugin is registered)');
    for (const d of r.declined) out.push(`  ${d.architecture}: ${d.reason}`);
  }
  out.push('');
  const stops = mg.points.filter((p) => p.stopPoint).length;
  out.push(`merge points (${mg.points.length}, in depth order; ${stops} stop point${stops === 1 ? '' : 's'}):`);
  if (mg.points.length === 0) out.push('  none');
  const nameWidth = Math.max(4, ...mg.points.map((p) => p.name.length));
  const indexWidth = Math.max(1, String(mg.points.length - 1).length);
  if (mg.points.length > 0) out.push(`  ${'#'.padStart(indexWidth)}  ${'name'.padEnd(nameWidth)}  channels  stop`);
  const pad = ' '.repeat(indexWidth + 4);
  for (const p of mg.points) {
    out.push(`  ${String(p.index).padStart(indexWidth)}  ${p.name.padEnd(nameWidth)}  ${String(p.channels).padStart(8)}  ${p.stopPoint ? 'yes' : 'no'}`);
    out.push(`${pad}producers: ${p.producerNodes.join(', ') || '-'}`);
    out.push(`${pad}consumers: ${p.consumerNodes.join(', ') || '-'}`);
    if (p.ties.length > 0) out.push(`${pad}residual stream joined by: ${p.ties.map((t) => t.node).join(', ')}`);
    if (p.blocks) out.push(`${pad}blocks: ${p.blocks.count} × ${p.blocks.size} (kept whole)`);
  }
  out.push('');
  out.push(`task heads (${mg.heads.length}; never averaged, one per model after merging):`);
  if (mg.heads.length === 0) out.push('  none');
  for (const h of mg.heads) {
    const input = h.input >= 0 ? `reads point ${h.input} (${mg.points[h.input].name})` : 'reads no merge point';
    out.push(`  ${h.name}: node ${h.node}, ${h.classes} classes, ${input}, output ${h.outputs.join(', ') || '-'}`);
  }
  if (mg.barriers.length > 0) {
    out.push('');
    out.push(`barriers (${mg.barriers.length}; merging cannot pass these nodes, so the spaces they touch are not merge points):`);
    for (const b of mg.barriers) out.push(`  node ${b.node} (${b.opType}): ${b.reason}${b.hint ? `; to merge through it: ${b.hint}` : ''}`);
  }
  out.push('');
  const stopList = mg.points.filter((p) => p.stopPoint).map((p) => `${p.index} (${p.name})`);
  out.push(`--stop-at takes: ${['none', ...stopList, ...(stops > 0 ? ['all'] : [])].join(', ')}`);
  return out;
}
