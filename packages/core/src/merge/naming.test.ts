import { describe, expect, it } from 'vitest';
import { scopeModule } from './naming.js';

describe('scopeModule', () => {
  it('reads module paths from PyTorch scope names, including nested nn.Sequential children', () => {
    expect(scopeModule('/layer1/layer1.0/conv1/Conv')).toBe('layer1.0.conv1');
    expect(scopeModule('/blocks/blocks.0/mlp/mlp.2/MatMul')).toBe('blocks.0.mlp.2');
    expect(scopeModule('/layer2/layer2.0/shortcut/shortcut.0/Conv')).toBe('layer2.0.shortcut.0');
    expect(scopeModule('/blocks/blocks.1/attn/MatMul_1')).toBe('blocks.1.attn');
  });
});
