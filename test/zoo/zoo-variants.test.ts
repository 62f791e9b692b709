import { describe } from 'vitest';
import { zooCase } from './harness.js';

// The other half of the matrix: every model of zoo-*.test.ts also with BatchNorm the other way
// (kept ↔ folded) or with the other batch (dynamic ↔ fixed), each held to the same checks.
describe('torchvision zoo: the other BatchNorm / batch variant of each model', () => {
  zooCase({ file: 'resnet18.dyn.onnx', plugin: 'resnet', size: 32 });
  zooCase({ file: 'resnet50.bn.onnx', plugin: 'resnet', size: 32 });
  zooCase({ file: 'vgg11_bn.bn.onnx', plugin: null, size: 224 });
  zooCase({ file: 'densenet121.folded.onnx', plugin: null, size: 32 });
  zooCase({ file: 'mobilenet_v2.bn.onnx', plugin: null, size: 32 });
  zooCase({ file: 'efficientnet_b0.folded.onnx', plugin: null, size: 32 });
  zooCase({ file: 'convnext.dyn.onnx', plugin: null, size: 32 });
});
