import { InvalidArgumentError } from '../errors.js';
import type { Graph } from '../graph/graph.js';
import { tensor } from '../tensor/tensor.js';
import type { BatchNormTap } from './batchnorm-stats-graph.js';
import { samplesPerChannel } from './channel-moments.js';

/**
 * Cumulative average of per-batch BatchNorm statistics (PyTorch's `momentum=None`): running
 * mean = mean of batch means, running variance = mean of *unbiased* batch variances, every
 * batch weighted equally — what the reference computes after `reset_running_stats()`.
 */
export class BatchNormAverage {
  private readonly mean: Float64Array[];
  private readonly variance: Float64Array[];
  private batches = 0;

  constructor(readonly taps: readonly BatchNormTap[]) {
    this.mean = taps.map((t) => new Float64Array(t.channels));
    this.variance = taps.map((t) => new Float64Array(t.channels));
  }

  /** Adds one batch: per tap, the biased batch variance, the batch mean and the input's shape. */
  add(values: (name: string) => { data: ArrayLike<number> | BigInt64Array }): void {
    this.taps.forEach((tap, k) => {
      const m = values(tap.meanOutput).data as ArrayLike<number>;
      const v = values(tap.varOutput).data as ArrayLike<number>;
      const n = samplesPerChannel(values(tap.shapeOutput).data as BigInt64Array);
      const unbias = n > 1 ? n / (n - 1) : 1;
      for (let c = 0; c < tap.channels; c++) {
        this.mean[k][c] += m[c];
        this.variance[k][c] += v[c] * unbias;
      }
    });
    this.batches++;
  }

  /** A copy of `graph` whose BatchNorm running statistics are the averages (float32). */
  apply(graph: Graph): Graph {
    if (this.batches === 0) throw new InvalidArgumentError('no batches were seen: cannot re-estimate BatchNorm statistics', { hint: 'the dataset is empty' });
    const initializers = new Map(graph.initializers);
    this.taps.forEach((tap, k) => {
      const mean = Float32Array.from(this.mean[k], (x) => x / this.batches);
      const variance = Float32Array.from(this.variance[k], (x) => x / this.batches);
      initializers.set(tap.meanParam, tensor('float32', [tap.channels], mean));
      initializers.set(tap.varParam, tensor('float32', [tap.channels], variance));
    });
    return { ...graph, initializers };
  }
}
