import { GraphBuilder, InvalidArgumentError, ShapeError, type Graph, type Tensor } from '@zipit/core';
import { forward, type ConvSpec, type ModelConfig, type Ops } from './models.js';

/**
 * {@link Ops} that build the ONNX graph with core's GraphBuilder, in the shapes and names of a
 * PyTorch export (`torch.onnx.export`, eval mode, BatchNorm kept): parameters are created with
 * the builder's random values and replaced by the trained ones in {@link exportGraph}.
 */
class GraphOps implements Ops<string> {
  constructor(private readonly b: GraphBuilder) {}

  conv(x: string, name: string, outChannels: number, spec: ConvSpec): string {
    return this.b.conv(x, outChannels, { name, kernel: spec.kernel, stride: spec.stride, pad: spec.pad, bias: spec.bias });
  }

  batchNorm(x: string, name: string): string {
    return this.b.batchNorm(x, { name, epsilon: 1e-5, momentum: 0.9 });
  }

  relu(x: string, scope?: string): string {
    return this.b.relu(x, { name: scope });
  }

  add(a: string, b: string, scope?: string): string {
    return this.b.add(a, b, { name: scope });
  }

  maxPool2(x: string, name: string): string {
    return this.b.maxPool(x, { kernel: 2, stride: 2, name });
  }

  avgPool1(x: string, name: string): string {
    const [y] = this.b.node('AveragePool', [x], {
      name,
      attributes: {
        ceil_mode: { type: 'int', value: 0 },
        count_include_pad: { type: 'int', value: 1 },
        kernel_shape: { type: 'ints', value: [1, 1] },
        pads: { type: 'ints', value: [0, 0, 0, 0] },
        strides: { type: 'ints', value: [1, 1] },
      },
      shapes: [this.b.shape(x)],
    });
    return y;
  }

  globalAveragePool(x: string, name: string): string {
    return this.b.globalAveragePool(x, { name });
  }

  flatten(x: string): string {
    return this.b.viewFlat(x);
  }

  linear(x: string, name: string, outFeatures: number): string {
    return this.b.gemm(x, outFeatures, { name });
  }
}

export interface ExportOptions {
  /** Default-domain opset (default 13). */
  opset?: number;
  /** Input height and width (default 32) and channels (default 3). */
  imageSize?: number;
  inChannels?: number;
  /** Model metadata (ModelProto.metadata_props): provenance of the weights. */
  metadata?: Record<string, string>;
}

/**
 * The model of `config` as a graph with input `input` [batch, C, S, S] and output `logits`
 * [batch, classes], every parameter taken from `params` (ONNX layouts, PyTorch names). A
 * parameter missing from `params`, one left over, or one of the wrong shape is an error, so the
 * export is exactly the trained model.
 */
export function exportGraph(config: ModelConfig, params: ReadonlyMap<string, Tensor<'float32'>>, opts: ExportOptions = {}): Graph {
  const b = new GraphBuilder({ opset: opts.opset ?? 13 });
  const x = b.input('input', ['batch', opts.inChannels ?? 3, opts.imageSize ?? 32, opts.imageSize ?? 32]);
  b.output(forward(new GraphOps(b), x, config), 'logits');
  const graph = b.build();
  const unused = new Set(params.keys());
  for (const [name, placeholder] of graph.initializers) {
    const trained = params.get(name);
    if (!trained) throw new InvalidArgumentError(`no trained value for parameter ${name}`);
    if (trained.shape.join() !== placeholder.shape.join()) {
      throw new ShapeError(`parameter ${name} is [${trained.shape.join(', ')}], the graph needs [${placeholder.shape.join(', ')}]`);
    }
    graph.initializers.set(name, trained);
    unused.delete(name);
  }
  if (unused.size > 0) throw new InvalidArgumentError(`trained parameters not in the graph: ${[...unused].join(', ')}`);
  graph.producerName = 'zipit-train';
  graph.metadata = Object.entries(opts.metadata ?? {});
  return graph;
}
