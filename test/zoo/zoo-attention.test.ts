import { describe } from 'vitest';
import { zooCase } from './harness.js';

describe('torchvision zoo: transformers and ConvNeXt', () => {
  // nn.MultiheadAttention and the class token: declared by the vit plugin (heads kept whole).
  zooCase({ file: 'vit.dyn.onnx', plugin: 'vit', size: 32 });
  // LayerNorm over channels-last, layer scale, GELU: derived.
  zooCase({ file: 'convnext.fixed.onnx', plugin: null, size: 32 });
});
