import { describe } from 'vitest';
import { zooCase } from './harness.js';

describe('torchvision zoo: MobileNetV2 and EfficientNet-B0 (derived: depthwise convolutions, squeeze-excitation)', () => {
  // Self-merges and permuted copies are exact for every method (≤ 1.2e-5). Self-merges were not
  // while the statistics graph took an uncentred float32 Gram: features varying by σ²/μ² ~ 1e-10
  // got negative variances. A dead channel through the depthwise conv, its bias and ReLU6/SiLU is
  // a constant, non-zero feature — up to 2/3 of a late point's; matchers get the means and pair
  // constants by value. Features constant up to accumulated float32 noise (σ/|μ| ~ 2⁻²²…2⁻⁸) differ
  // from their permuted twin by that noise, so neither correlation nor equal means find the twin
  // (permuted copies were recovered to 2.7e-1 (MobileNetV2 zipit), 1.4e-1 and 6.3e-1
  // (EfficientNet-B0 permute, zipit)); their raw distance does (core/src/match/near-twins.ts).
  zooCase({ file: 'mobilenet_v2.folded.onnx', plugin: null, size: 32 });
  zooCase({ file: 'efficientnet_b0.bn.onnx', plugin: null, size: 32 });
});
