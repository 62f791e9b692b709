import { Sha256 } from './sha256.js';
import type { Graph } from '@zipit/core';

/**
 * A short, stable fingerprint of a model's parameters (names, shapes, dtypes and bytes), used to
 * tie saved statistics to the exact models they were computed for.
 */
export function fingerprint(graph: Graph): string {
  const h = new Sha256();
  for (const [name, t] of graph.initializers) {
    h.update(`${name}|${t.dtype}|${t.shape.join('x')}|`);
    const d = t.data;
    if (Array.isArray(d)) h.update(d.join('\u0000'));
    else h.update(new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
  }
  return h.hex().slice(0, 16);
}
