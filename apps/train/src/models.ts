/**
 * The fixture architectures, written once against {@link Ops} so that the same code trains the
 * model in tfjs ({@link TfOps}) and exports it as an ONNX graph ({@link GraphOps}): module names
 * are those of a PyTorch export of the reference ZipIt! models, and the two can never disagree
 * about the structure.
 */

export interface ConvSpec {
  kernel: number;
  stride: number;
  /** Symmetric zero padding (PyTorch's `padding`). */
  pad: number;
  bias: boolean;
}

/**
 * The layers a model is made of. `T` is a value: a tfjs tensor or a graph value name. `name` is
 * the PyTorch module path (`layer1.0.conv1`), which names the parameters (`layer1.0.conv1.weight`);
 * `scope` is the module a functional operator (F.relu, +) runs in.
 */
export interface Ops<T> {
  conv(x: T, name: string, outChannels: number, spec: ConvSpec): T;
  batchNorm(x: T, name: string): T;
  relu(x: T, scope?: string): T;
  add(a: T, b: T, scope?: string): T;
  maxPool2(x: T, name: string): T;
  /** `nn.AvgPool2d(kernel_size=1, stride=1)`: the identity, kept because the reference VGG has it. */
  avgPool1(x: T, name: string): T;
  globalAveragePool(x: T, name: string): T;
  /** `out.view(out.size(0), -1)`. */
  flatten(x: T): T;
  linear(x: T, name: string, outFeatures: number): T;
}

export type Architecture = 'resnet20' | 'vgg11';

export interface ModelConfig {
  arch: Architecture;
  /** Channels of the first stage (ResNet-20: 16·w in the reference; VGG-11: 64·w). */
  width: number;
  classes: number;
}

/**
 * CIFAR-style ResNet-20 as in the ZipIt! reference (`models/resnets.py`): 3×3 stem conv + BN +
 * ReLU, three stages of three BasicBlocks (width, 2·width, 4·width; the first block of stages
 * 2 and 3 has stride 2 and an option-B shortcut: 1×1 conv stride 2 + BN), global average pool,
 * `linear` head. Convolutions have no bias (BatchNorm follows each).
 */
export function resnet20<T>(ops: Ops<T>, x: T, width: number, classes: number): T {
  const conv3 = (v: T, name: string, out: number, stride: number): T => ops.conv(v, name, out, { kernel: 3, stride, pad: 1, bias: false });
  x = ops.relu(ops.batchNorm(conv3(x, 'conv1', width, 1), 'bn1'));
  let inPlanes = width;
  for (let s = 0; s < 3; s++) {
    const planes = width * 2 ** s;
    for (let i = 0; i < 3; i++) {
      const name = `layer${s + 1}.${i}`;
      const stride = i === 0 && s > 0 ? 2 : 1;
      let y = ops.relu(ops.batchNorm(conv3(x, `${name}.conv1`, planes, stride), `${name}.bn1`), name);
      y = ops.batchNorm(conv3(y, `${name}.conv2`, planes, 1), `${name}.bn2`);
      let shortcut = x;
      if (stride !== 1 || inPlanes !== planes) {
        const projected = ops.conv(x, `${name}.shortcut.0`, planes, { kernel: 1, stride, pad: 0, bias: false });
        shortcut = ops.batchNorm(projected, `${name}.shortcut.1`);
      }
      x = ops.relu(ops.add(y, shortcut, name), name);
      inPlanes = planes;
    }
  }
  x = ops.flatten(ops.globalAveragePool(x, 'avgpool'));
  return ops.linear(x, 'linear', classes);
}

/** VGG-11 layer plan, in units of the first stage's width ('M' is a 2×2 max-pool). */
const VGG11: readonly (number | 'M')[] = [1, 'M', 2, 'M', 4, 4, 'M', 8, 8, 'M', 8, 8, 'M'];

/**
 * VGG-11 with BatchNorm as in the ZipIt! reference (`models/vgg.py`, after kuangliu's CIFAR VGG):
 * `features` = [Conv3×3(bias) → BN → ReLU]… with 2×2 max-pools (32×32 → 1×1 after five), then
 * `AvgPool2d(1, 1)`; flatten; `classifier` = one Linear. Module indices follow nn.Sequential
 * (`features.0` conv, `features.1` BN, `features.2` ReLU, `features.3` MaxPool, …).
 */
export function vgg11<T>(ops: Ops<T>, x: T, width: number, classes: number): T {
  let index = 0;
  for (const item of VGG11) {
    if (item === 'M') {
      x = ops.maxPool2(x, `features.${index++}`);
      continue;
    }
    x = ops.conv(x, `features.${index}`, width * item, { kernel: 3, stride: 1, pad: 1, bias: true });
    x = ops.batchNorm(x, `features.${index + 1}`);
    x = ops.relu(x, `features.${index + 2}`);
    index += 3;
  }
  x = ops.avgPool1(x, `features.${index}`);
  return ops.linear(ops.flatten(x), 'classifier', classes);
}

/** Runs the architecture of a config. */
export function forward<T>(ops: Ops<T>, x: T, config: ModelConfig): T {
  return config.arch === 'resnet20' ? resnet20(ops, x, config.width, config.classes) : vgg11(ops, x, config.width, config.classes);
}
