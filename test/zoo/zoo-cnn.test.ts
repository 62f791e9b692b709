import { describe } from 'vitest';
import { zooCase } from './harness.js';

describe('torchvision zoo: VGG and DenseNet (derived)', () => {
  // Flatten [B, 32, 7, 7] → [B, 1568] → Linear: merged as M ⊗ I(49).
  zooCase({ file: 'vgg11_bn.folded.onnx', plugin: null, size: 224 });
  // Channel concatenations: one point per concatenated input (direct sum).
  zooCase({ file: 'densenet121.bn.onnx', plugin: null, size: 32 });
});
