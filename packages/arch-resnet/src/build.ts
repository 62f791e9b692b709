import { GraphBuilder, InvalidArgumentError, type Graph, type GraphBuilderOptions } from '@zipit/core';

/**
 * Seeded random-init ResNets as graph IR, in the shapes and names `torch.onnx.export` produces
 * for the two layouts ZipIt is evaluated on:
 *
 * - `cifar`: the reference implementation's ResNet-20 (gstoica27/ZipIt `models/resnets.py`):
 *   3×3 stem without max-pool, three stages of width w·16/32/64, BasicBlocks whose shortcut is a
 *   3×3 conv + BN when the shape changes, functional ReLUs, `AdaptiveAvgPool2d(1)` and
 *   `out.view(out.size(0), -1)` before `linear`;
 * - `torchvision`: `torchvision.models.resnet` (7×7 stride-2 stem, 3×3 max-pool, four stages of
 *   width w·64/128/256/512, 1×1 conv + BN `downsample` shortcuts, `relu` modules, `fc` after
 *   `torch.flatten(x, 1)`), with BasicBlocks (ResNet-18/34) or Bottlenecks (ResNet-50/101,
 *   stride on the 3×3 conv, expansion 4).
 *
 * With `foldedBatchNorm`, every Conv+BN pair is one Conv with a bias, as an eval-mode export
 * with constant folding produces.
 */
export interface ResNetOptions extends GraphBuilderOptions {
  /** Width multiplier (channels scale with it; default 1). */
  width?: number;
  /** Classes of the `linear`/`fc` head (default 10). */
  classes?: number;
  /** Input height and width (default 32). */
  imageSize?: number;
  /** Input channels (default 3). */
  inChannels?: number;
  foldedBatchNorm?: boolean;
}

export interface ResNetSpec extends ResNetOptions {
  layout: 'cifar' | 'torchvision';
  block: 'basic' | 'bottleneck';
  /** Blocks per stage. */
  depths: number[];
}

/** CIFAR-style ResNet-20 of the reference implementation: [3, 3, 3] BasicBlocks, width w·16. */
export function buildResNet20(opts: ResNetOptions = {}): Graph {
  return buildResNet({ ...opts, layout: 'cifar', block: 'basic', depths: [3, 3, 3] });
}

/** torchvision ResNet-18: [2, 2, 2, 2] BasicBlocks, width w·64. */
export function buildResNet18(opts: ResNetOptions = {}): Graph {
  return buildResNet({ ...opts, layout: 'torchvision', block: 'basic', depths: [2, 2, 2, 2] });
}

/** torchvision ResNet-50: [3, 4, 6, 3] Bottlenecks, width w·64 (×4 after each block). */
export function buildResNet50(opts: ResNetOptions = {}): Graph {
  return buildResNet({ ...opts, layout: 'torchvision', block: 'bottleneck', depths: [3, 4, 6, 3] });
}

export function buildResNet(spec: ResNetSpec): Graph {
  const width = spec.width ?? 1;
  if (!(width > 0)) throw new InvalidArgumentError(`ResNet width must be positive, got ${width}`);
  if (spec.depths.length === 0 || spec.depths.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new InvalidArgumentError(`ResNet depths must be positive integers, got [${spec.depths.join(', ')}]`);
  }
  const b = new GraphBuilder(spec);
  const cifar = spec.layout === 'cifar';
  const folded = spec.foldedBatchNorm ?? false;
  const size = spec.imageSize ?? 32;
  const convBn = (x: string, out: number, conv: string, bn: string, k: number, stride: number, pad: number): string =>
    folded
      ? b.conv(x, out, { name: conv, kernel: k, stride, pad, bias: true })
      : b.batchNorm(b.conv(x, out, { name: conv, kernel: k, stride, pad, bias: false }), { name: bn });

  let x = b.input('input', ['batch', spec.inChannels ?? 3, size, size]);
  const base = cifar ? Math.max(1, Math.floor(16 * width)) : Math.max(1, Math.round(64 * width));
  if (cifar) {
    x = b.relu(convBn(x, base, 'conv1', 'bn1', 3, 1, 1));
  } else {
    x = b.relu(convBn(x, base, 'conv1', 'bn1', 7, 2, 3), { name: 'relu' });
    x = b.maxPool(x, { kernel: 3, stride: 2, pad: 1, name: 'maxpool' });
  }
  const expansion = spec.block === 'bottleneck' ? 4 : 1;
  let inPlanes = base;
  spec.depths.forEach((count, s) => {
    const planes = base * 2 ** s;
    for (let i = 0; i < count; i++) {
      const name = `layer${s + 1}.${i}`;
      const stride = i === 0 && s > 0 ? 2 : 1;
      const outPlanes = planes * expansion;
      const relu = (v: string) => (cifar ? b.relu(v, { name }) : b.relu(v, { name: `${name}.relu` }));
      let y: string;
      if (spec.block === 'basic') {
        y = relu(convBn(x, planes, `${name}.conv1`, `${name}.bn1`, 3, stride, 1));
        y = convBn(y, planes, `${name}.conv2`, `${name}.bn2`, 3, 1, 1);
      } else {
        y = relu(convBn(x, planes, `${name}.conv1`, `${name}.bn1`, 1, 1, 0));
        y = relu(convBn(y, planes, `${name}.conv2`, `${name}.bn2`, 3, stride, 1));
        y = convBn(y, outPlanes, `${name}.conv3`, `${name}.bn3`, 1, 1, 0);
      }
      let shortcut = x;
      if (stride !== 1 || inPlanes !== outPlanes) {
        shortcut = cifar
          ? convBn(x, outPlanes, `${name}.shortcut.0`, `${name}.shortcut.1`, 3, stride, 1)
          : convBn(x, outPlanes, `${name}.downsample.0`, `${name}.downsample.1`, 1, stride, 0);
      }
      x = relu(b.add(y, shortcut, { name }));
      inPlanes = outPlanes;
    }
  });
  x = b.globalAveragePool(x, { name: 'avgpool' });
  x = cifar ? b.viewFlat(x) : b.flatten(x, { axis: 1 });
  b.output(b.gemm(x, spec.classes ?? 10, { name: cifar ? 'linear' : 'fc' }), 'logits');
  return b.build();
}
