import { describe } from 'vitest';
import { TIES, zooCase } from './harness.js';

describe('torchvision zoo: MobileNetV2 and EfficientNet-B0 (derived: depthwise convolutions, squeeze-excitation)', () => {
  // issue 9 items 6/7 (numerics helper): ReLU6/SiLU channels dead at the observed value tie; the
  // permute error grows with depth (1e-7 at the first points, 0.27 at the 240-wide late ones, even
  // with 64 images). The average self-merge (identity matching) is exact: the structure is.
  zooCase({ file: 'mobilenet_v2.folded.onnx', plugin: null, size: 32, knownInexact: { permute: TIES, zipit: TIES } });
  zooCase({ file: 'efficientnet_b0.bn.onnx', plugin: null, size: 32, knownInexact: { permute: TIES, zipit: TIES } });
});
