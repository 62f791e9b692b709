import { describe } from 'vitest';
import { TIES, zooCase } from './harness.js';

describe('torchvision zoo: MobileNetV2 and EfficientNet-B0 (derived: depthwise convolutions, squeeze-excitation)', () => {
  // Self-merges are exact for every method (they were not while the statistics graph took an
  // uncentred float32 Gram: features varying by σ²/μ² ~ 1e-10 got negative variances). Permuted
  // copies are not (TIES): a dead channel through the depthwise conv, its bias and ReLU6/SiLU is
  // a constant, non-zero feature — up to 2/3 of a late point's — and constants are paired by rank.
  zooCase({ file: 'mobilenet_v2.folded.onnx', plugin: null, size: 32, knownInexact: { permute: TIES, zipit: TIES } });
  zooCase({ file: 'efficientnet_b0.bn.onnx', plugin: null, size: 32, knownInexact: { permute: TIES, zipit: TIES } });
});
