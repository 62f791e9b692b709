import {
  fromAssignment,
  linearSumAssignment,
  UnsupportedError,
  type GraphBody,
  type GraphMatcher,
  type GraphMatchInput,
  type MatchResult,
  type MergeGraph,
  type ParamRef,
  type Tensor,
} from '@zipit/core';

/** Where a point's channels sit in a parameter: along `axis`, from `offset`, `repeat` entries per channel. */
interface Slot {
  unit: number;
  axis: number;
  offset: number;
  repeat: number;
  channels: number;
}

/**
 * Weight matching (Ainsworth, Hayase & Srinivasa, "Git Re-Basin", ICLR 2023) as a graph-level
 * matcher: it reads no statistics, only weights. Every model k ≥ 1 is aligned to model 0 by one
 * permutation per unit (a merge point, or the points sharing one transform), chosen to maximise
 * Σ ⟨W₀, P(Wₖ)⟩ over every parameter the unit writes or reads. Coordinate descent: each unit's
 * permutation in turn is a linear sum assignment on C×C similarities between its channels'
 * weight slices, the other axes of those parameters aligned by the other units' current
 * permutations; sweeps repeat until nothing changes (at most `iterations`). The merge then
 * averages each model-0 feature with its partners, one-to-one: a permutation method, so it
 * recovers a permuted copy exactly and zip(A, A) is A.
 *
 * Points with attention-head blocks are refused (a head-aware version would permute within and
 * across blocks only).
 */
export const weightMatchingMatcher: GraphMatcher = {
  kind: 'graph',
  name: 'weight-matching',
  description: 'Git Re-Basin weight matching: align every model to the first by permutations that maximise weight agreement',
  defaults: { iterations: 30 },
  parameters: {
    iterations: {
      description: 'most coordinate-descent sweeps over the merge points (stops earlier once no permutation changes)',
      min: 1,
      max: 10_000,
      integer: true,
    },
  },
  matchGraph(input: GraphMatchInput): (MatchResult | undefined)[] {
    const { mergeGraph: mg, graphs, numModels } = input;
    const { units, unitOf } = unitsOf(mg);
    const slots = slotsByParam(mg, unitOf);
    const perms: Int32Array[][] = [];
    for (let k = 1; k < numModels; k++) perms.push(alignToFirst(graphs[0], graphs[k], units, slots, input.params.iterations));
    return mg.points.map((p, i) => {
      if (i > input.upTo) return undefined;
      const c = p.channels;
      const groupOf = new Int32Array(numModels * c);
      for (let f = 0; f < c; f++) groupOf[f] = f;
      perms.forEach((perm, j) => {
        const mine = perm[unitOf[i]];
        for (let f = 0; f < c; f++) groupOf[(j + 1) * c + mine[f]] = f;
      });
      return fromAssignment(groupOf, c, numModels);
    });
  },
};

/** Units: points grouped by `shareTransform` (each other point alone); refuses blocks. */
function unitsOf(mg: MergeGraph): { units: { channels: number }[]; unitOf: number[] } {
  const units: { channels: number }[] = [];
  const byKey = new Map<string, number>();
  const unitOf = mg.points.map((p) => {
    if (p.blocks) {
      throw new UnsupportedError(`weight-matching does not handle attention-head blocks (point "${p.name}")`, {
        space: p.name,
        hint: 'use the zipit or permute matcher for attention models',
      });
    }
    if (p.shareTransform !== undefined && byKey.has(p.shareTransform)) return byKey.get(p.shareTransform)!;
    units.push({ channels: p.channels });
    if (p.shareTransform !== undefined) byKey.set(p.shareTransform, units.length - 1);
    return units.length - 1;
  });
  return { units, unitOf };
}

/** Every parameter's slots (producers and consumers of every point), duplicates dropped. */
function slotsByParam(mg: MergeGraph, unitOf: number[]): Map<string, Slot[]> {
  const out = new Map<string, Slot[]>();
  mg.points.forEach((p, i) => {
    for (const r of [...p.producers, ...p.consumers] as ParamRef[]) {
      const slot: Slot = { unit: unitOf[i], axis: r.axis, offset: r.offset ?? 0, repeat: r.repeat ?? 1, channels: p.channels };
      const list = out.get(r.param) ?? [];
      if (!list.some((s) => s.axis === slot.axis && s.offset === slot.offset)) list.push(slot);
      out.set(r.param, list);
    }
  });
  return out;
}

/** Coordinate descent: one permutation per unit, model b's channel perm[f] ↔ model a's channel f. */
function alignToFirst(a: GraphBody, b: GraphBody, units: { channels: number }[], slots: Map<string, Slot[]>, iterations: number): Int32Array[] {
  const perm: Int32Array[] = units.map((u) => Int32Array.from({ length: u.channels }, (_, f) => f));
  const weights = (g: GraphBody, name: string): Tensor => {
    const t = g.initializers.get(name);
    if (!t)
      throw new UnsupportedError(`weight-matching: parameter "${name}" is not an initializer of every model`, {
        hint: 'inline parameters that are computed by nodes first',
      });
    return t;
  };
  for (let sweep = 0; sweep < iterations; sweep++) {
    let changed = false;
    units.forEach((unit, u) => {
      const c = unit.channels;
      const sim = new Float64Array(c * c);
      for (const [param, list] of slots) {
        for (const slot of list) {
          if (slot.unit === u) addSimilarity(sim, weights(a, param), weights(b, param), slot, list, perm);
        }
      }
      const next = linearSumAssignment(sim, c, true);
      if (next.some((v, f) => v !== perm[u][f])) changed = true;
      perm[u] = next;
    });
    if (!changed) break;
  }
  return perm;
}

/**
 * sim[f, g] += ⟨A's slice of channel f, B's slice of channel g⟩ along `slot`, B's other slotted
 * axes read through their units' permutations (so both slices are in model A's order there).
 */
function addSimilarity(sim: Float64Array, ta: Tensor, tb: Tensor, slot: Slot, all: readonly Slot[], perm: readonly Int32Array[]): void {
  const shape = ta.shape;
  const rank = shape.length;
  // For every axis, model-B index of each model-A index (identity outside other units' slots).
  const maps = shape.map((n, axis) => {
    const m = Int32Array.from({ length: n }, (_, i) => i);
    if (axis === slot.axis) return m;
    for (const s of all) {
      if (s.axis !== axis) continue;
      const p = perm[s.unit];
      for (let f = 0; f < s.channels; f++) {
        for (let r = 0; r < s.repeat; r++) m[s.offset + f * s.repeat + r] = s.offset + p[f] * s.repeat + r;
      }
    }
    return m;
  });
  const strides = new Array<number>(rank).fill(1);
  for (let d = rank - 2; d >= 0; d--) strides[d] = strides[d + 1] * shape[d + 1];
  const c = slot.channels;
  const span = c * slot.repeat;
  // Rows of channel f in A and of channel g in B as [c, L] matrices, L = entries per channel.
  const per = (ta.data.length / shape[slot.axis]) * slot.repeat;
  const rowsA = new Float64Array(c * per);
  const rowsB = new Float64Array(c * per);
  const fill = new Int32Array(c);
  const idx = new Array<number>(rank).fill(0);
  const da = ta.data as ArrayLike<number>;
  const db = tb.data as ArrayLike<number>;
  for (let flat = 0; flat < da.length; flat++) {
    let rest = flat;
    for (let d = 0; d < rank; d++) {
      idx[d] = Math.floor(rest / strides[d]);
      rest -= idx[d] * strides[d];
    }
    const along = idx[slot.axis] - slot.offset;
    if (along < 0 || along >= span) continue;
    const f = Math.floor(along / slot.repeat);
    let flatB = 0;
    for (let d = 0; d < rank; d++) flatB += maps[d][idx[d]] * strides[d];
    const col = fill[f]++;
    rowsA[f * per + col] = Number(da[flat]);
    rowsB[f * per + col] = Number(db[flatB]);
  }
  for (let f = 0; f < c; f++) {
    for (let g = 0; g < c; g++) {
      let dot = 0;
      for (let t = 0; t < per; t++) dot += rowsA[f * per + t] * rowsB[g * per + t];
      sim[f * c + g] += dot;
    }
  }
}
