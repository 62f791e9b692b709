import { MismatchError, ShapeError, UnsupportedError, type Graph, type Tensor } from '@zipit/core';

/** How a state_dict was laid onto a structure graph. */
export interface StateDictLoad {
  /** The structure with every matched initializer replaced by the checkpoint's tensor. */
  graph: Graph;
  /** Parameter names loaded from the checkpoint, in the structure's order. */
  matched: string[];
  /**
   * Checkpoint entries the structure has no initializer for: buffers the exported graph does not
   * use (`bn.num_batches_tracked`), or parameters the exporter folded away (then the structure
   * lists them under `unmatched`).
   */
  unused: string[];
  /**
   * Structure parameters (floating-point initializers) the checkpoint has no entry for: names
   * the exporter made up for parameters it folded (`onnx::Conv_123` when BatchNorm was folded
   * into Conv). They keep the structure's values when `strict` is false.
   */
  unmatched: string[];
}

export interface LoadStateDictOptions {
  /** File named in errors. */
  file?: string;
  /** Refuse unmatched structure parameters (default true): their values would silently come from the structure. */
  strict?: boolean;
}

const FOLDING_HINT =
  'torch.onnx.export renames parameters it folds (BatchNorm into Conv in eval mode, `onnx::Conv_*`); export the structure with ' +
  'training=torch.onnx.TrainingMode.PRESERVE and do_constant_folding=False so every parameter keeps its state_dict name';

function isParameter(t: Tensor): boolean {
  return (t.dtype === 'float32' || t.dtype === 'float64' || t.dtype === 'float16' || t.dtype === 'bfloat16') && t.data.length > 1;
}

/**
 * Lays a PyTorch state_dict onto a structure: an ONNX export of the same module (or an
 * architecture plugin's reference model) whose initializers carry the state_dict's names.
 * Matching is by name; dtype and shape must agree (ShapeError naming the parameter). Returns a
 * new graph and what matched, what the checkpoint has in excess and what the structure lacks.
 * With `strict` (default) an unmatched structure parameter is a MismatchError listing them,
 * with how to export so that names survive.
 */
export function loadStateDict(structure: Graph, tensors: ReadonlyMap<string, Tensor>, opts: LoadStateDictOptions = {}): StateDictLoad {
  const file = opts.file;
  const initializers = new Map(structure.initializers);
  const matched: string[] = [];
  const unmatched: string[] = [];
  for (const [name, s] of structure.initializers) {
    const t = tensors.get(name);
    if (!t) {
      if (isParameter(s)) unmatched.push(name);
      continue;
    }
    if (t.dtype !== s.dtype) throw new MismatchError(`parameter "${name}" is ${t.dtype} in the checkpoint and ${s.dtype} in the structure`, { file });
    if (t.shape.length !== s.shape.length || t.shape.some((d, i) => d !== s.shape[i])) {
      throw new ShapeError(`parameter "${name}" is [${t.shape.join(', ')}] in the checkpoint and [${s.shape.join(', ')}] in the structure`, {
        file,
        hint: 'the structure must be an export of the same module with the same widths',
      });
    }
    initializers.set(name, t);
    matched.push(name);
  }
  const unused = [...tensors.keys()].filter((k) => !structure.initializers.has(k));
  if (matched.length === 0) {
    throw new MismatchError(
      `no parameter of the checkpoint is in the structure (checkpoint: ${sample(unused)}; structure: ${sample([...structure.initializers.keys()])})`,
      {
        file,
        hint: FOLDING_HINT,
      },
    );
  }
  if (unmatched.length > 0 && opts.strict !== false) {
    throw new MismatchError(
      `${unmatched.length} structure parameter${unmatched.length === 1 ? '' : 's'} cannot be matched by name: ${sample(unmatched)} (checkpoint entries left over: ${sample(unused)})`,
      {
        file,
        hint: FOLDING_HINT,
      },
    );
  }
  return { graph: { ...structure, initializers }, matched, unused, unmatched };
}

function sample(names: readonly string[], n = 6): string {
  if (names.length === 0) return 'none';
  return names.slice(0, n).join(', ') + (names.length > n ? `, … (${names.length} in all)` : '');
}

/** What {@link toStateDict} wrote and from where. */
export interface StateDictSave {
  tensors: Map<string, Tensor>;
  /** Names taken from the graph. */
  fromGraph: string[];
  /** Template entries the graph does not hold (buffers such as `num_batches_tracked`), copied unchanged. */
  fromTemplate: string[];
  /** Graph initializers left out because the template has no such key (exporter constants, other models' heads). */
  leftOut: string[];
}

export interface ToStateDictOptions {
  /**
   * For a merged graph with per-model layers (a task head, or everything after the stop point):
   * the model whose view to write. Its parameters `name@model` are written as `name`; other
   * models' copies are left out. Required when the graph has per-model parameters.
   */
  model?: string;
  /**
   * The original state_dict (e.g. the input checkpoint): fixes the keys and their order, so that
   * `load_state_dict` (strict) accepts the result. Without it every initializer is written.
   */
  template?: ReadonlyMap<string, Tensor>;
}

/**
 * The state_dict of a (merged) graph under the original parameter names: shared parameters keep
 * their names; per-model parameters of `opts.model` (`fc.weight@taskA`) lose the suffix. With a
 * template, the keys and order are the template's; template entries the graph does not hold are
 * copied, and shapes must match the template (ShapeError: a partially zipped graph is wider
 * after the stop point than the module).
 */
export function toStateDict(graph: Graph, opts: ToStateDictOptions = {}): StateDictSave {
  const view = modelView(graph, opts.model);
  const fromGraph: string[] = [];
  const fromTemplate: string[] = [];
  const tensors = new Map<string, Tensor>();
  if (!opts.template) {
    for (const [name, t] of view.params) {
      tensors.set(name, t);
      fromGraph.push(name);
    }
    return { tensors, fromGraph, fromTemplate, leftOut: view.leftOut };
  }
  for (const [name, like] of opts.template) {
    const t = view.params.get(name);
    if (!t) {
      tensors.set(name, like);
      fromTemplate.push(name);
      continue;
    }
    if (t.dtype !== like.dtype || t.shape.length !== like.shape.length || t.shape.some((d, i) => d !== like.shape[i])) {
      throw new ShapeError(
        `parameter "${name}" is ${t.dtype} [${t.shape.join(', ')}] in the graph but ${like.dtype} [${like.shape.join(', ')}] in the template`,
        {
          hint: 'only a fully zipped model (or one model of a merge) has the widths of the original module',
        },
      );
    }
    tensors.set(name, t);
    fromGraph.push(name);
  }
  const leftOut = [...view.leftOut, ...[...view.params.keys()].filter((k) => !opts.template!.has(k))];
  return { tensors, fromGraph, fromTemplate, leftOut };
}

/** The parameters one model sees in a merged graph, under their original names. */
function modelView(graph: Graph, model: string | undefined): { params: Map<string, Tensor>; leftOut: string[] } {
  const suffixes = new Map<string, Set<string>>();
  for (const name of graph.initializers.keys()) {
    const at = name.lastIndexOf('@');
    if (at <= 0) continue;
    const base = name.slice(0, at);
    if (!suffixes.has(base)) suffixes.set(base, new Set());
    suffixes.get(base)!.add(name.slice(at + 1));
  }
  const models = new Set([...suffixes.values()].flatMap((s) => [...s]));
  const perModel = models.size > 1 || (model !== undefined && models.has(model));
  if (perModel && model === undefined) {
    throw new UnsupportedError(
      `the graph has per-model parameters for ${[...models].join(', ')} (task heads or layers after the stop point); choose the model to write`,
      {
        hint: 'give { model: NAME }: its head is written under the original names',
      },
    );
  }
  if (model !== undefined && !models.has(model) && models.size > 0) {
    throw new UnsupportedError(`no per-model parameters for "${model}"; the graph has ${[...models].join(', ')}`);
  }
  const params = new Map<string, Tensor>();
  const leftOut: string[] = [];
  for (const [name, t] of graph.initializers) {
    const at = name.lastIndexOf('@');
    const base = at > 0 ? name.slice(0, at) : name;
    if (perModel && at > 0 && suffixes.get(base)?.size && models.has(name.slice(at + 1))) {
      if (name.slice(at + 1) === model) params.set(base, t);
      else leftOut.push(name);
      continue;
    }
    params.set(name, t);
  }
  return { params, leftOut };
}
