import {
  attachFile, deriveMergeGraph, diffMergeGraphs, inlineParameters, ZipitError, type Architecture, type ErrorContext, type ArchitectureRegistry, type Graph, type MergeGraph,
} from '@zipit/core';
import { readOnnxFile } from '@zipit/io-onnx/node';
import { builtinArchitectures } from '../architectures.js';
import { parseArgs, UsageError, usageErrors, type Command } from '../command.js';

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

/** Recognises the architecture, declares or derives the merge graph, and compares the two. */
export function inspectGraph(graph: Graph, file: string, registry: ArchitectureRegistry = builtinArchitectures()): Inspection {
  const declined: Inspection['declined'] = [];
  let arch: Architecture | undefined;
  let recognition: { variant: string; summary: string } | undefined;
  for (const candidate of registry.list()) {
    const r = candidate.recognise(graph);
    if (r.match) {
      arch = candidate;
      recognition = r;
      break;
    }
    declined.push({ architecture: candidate.name, reason: r.reason });
  }
  const prepared = arch?.prepare !== undefined;
  const target = arch?.prepare ? arch.prepare(graph) : graph;
  let derived: MergeGraph | undefined;
  let derivationError: string | undefined;
  try {
    derived = deriveMergeGraph(target);
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
  if (!arch || !recognition) {
    return { file, model, architecture: null, declined, source: 'derived', prepared, differences: null, mergeGraph: derived! };
  }
  const declared = arch.mergeGraph(target);
  return {
    file,
    model,
    architecture: { name: arch.name, variant: recognition.variant, summary: recognition.summary },
    declined,
    source: 'declared',
    prepared,
    differences: derived ? diffMergeGraphs(declared, derived) : null,
    ...(derivationError === undefined ? {} : { derivationError }),
    mergeGraph: declared,
  };
}

/** The same error with the file named (every ZipitError subclass takes `(message, context)`). */
/** The human-readable report, one line per entry. */
export function formatInspection(r: Inspection): string[] {
  const out: string[] = [];
  const mg = r.mergeGraph;
  out.push(`model: ${r.file}: ${r.model.nodes} nodes, ${r.model.parameters.toLocaleString('en-US')} parameters; input ${r.model.inputs.join(', ')}; output ${r.model.outputs.join(', ')}`);
  if (r.architecture) {
    out.push(`architecture: ${r.architecture.name} (${r.architecture.variant}): ${r.architecture.summary}`);
    if (r.prepared) out.push(`prepared: the ${r.architecture.name} plugin rewrites the model first (same function, more stop points); points below are of the rewritten model`);
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

export const inspectCommand: Command = {
  name: 'inspect',
  summary: "show a model's architecture, merge points (in depth order, with stop points) and task heads",
  help: `usage: zipit inspect MODEL.onnx [--json]

Reads MODEL and shows how zipit would merge it:
- the architecture, when a plugin (resnet, vgg) recognises it, with the merge graph the plugin
  declares and whether the automatic derivation agrees; otherwise "unknown: derived
  automatically" and why each plugin declined;
- the merge points in depth order: index, name, channels, whether partial zipping may stop
  there (--stop-at of zipit merge), the nodes that produce and consume the space, and the
  residual Adds that tie a stream together;
- the task heads (classifiers kept per model) and any barriers: nodes that merging cannot pass,
  each with the reason and what to do.

options:
  --json      print the full result (every point's parameters and axes) as JSON

example:
  zipit inspect packages/arch-resnet/fixtures/resnet20_w0.25_bn_opset13.onnx`,

  async run(argv, io) {
    const { values, positionals } = usageErrors(() =>
      parseArgs({ args: argv, allowPositionals: true, options: { json: { type: 'boolean' }, quiet: { type: 'boolean' } } }),
    );
    if (positionals.length !== 1) throw new UsageError(`expected one MODEL, got ${positionals.length} paths`);
    const [file] = positionals;
    const graph = inlineParameters(await readOnnxFile(file));
    const result = inspectGraph(graph, file);
    if (values.json) io.out(JSON.stringify(result, null, 2));
    else for (const line of formatInspection(result)) io.out(line);
    return 0;
  },
};
