#!/usr/bin/python3
"""Exports the torchvision zoo fixtures of test/zoo (issue 9): small torchvision models, exported
the way PyTorch users export them (`torch.onnx.export`, default opset, input named "input",
output "logits"), with seeded random weights and noise on every constant so nothing is
degenerate (BatchNorm running statistics, layer scales and class tokens included).

Run with Debian's python3-torch 1.13 / python3-torchvision 0.14 (CPU):

    /usr/bin/python3 test/zoo/make_zoo.py            # writes test/zoo/fixtures/*.onnx + manifest.json

Variants per architecture (see PROVENANCE.md):
  *.folded.onnx   default eval export: BatchNorm folded into Conv by the exporter, fixed batch [1, …]
  *.bn.onnx       BatchNorm kept as BatchNormalization nodes (training=TrainingMode.PRESERVE on an
                  eval-mode model skips the exporter's Conv+BN fusion), dynamic batch axis
  *.dyn.onnx      (resnet18 only) the folded export with a dynamic batch axis: the same architecture
                  as *.folded.onnx
Models without BatchNorm (vit, convnext) get a fixed-batch and a dynamic-batch export; swin a
dynamic-batch one.

Sizes are reduced with torchvision's own constructor arguments where it has them (width_mult,
depth, block counts, growth rate) and otherwise by narrowing the module structure torchvision
builds (same module names, same forward code, fewer channels).
"""
import hashlib
import json
import os
import sys

import torch
import torch.nn as nn
import torchvision
from torchvision.models import resnet, vgg, densenet, mobilenetv2, efficientnet, vision_transformer, convnext, swin_transformer

torch.set_num_threads(1)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'fixtures')
CLASSES = 10


class SlimResNet(resnet.ResNet):
    """torchvision's ResNet with every width divided by `div` (64→64/div … 512→512/div)."""

    def __init__(self, block, layers, div, **kw):
        self.div = div
        super().__init__(block, layers, **kw)
        self.inplanes_stem = 64 // div
        norm = self._norm_layer
        self.conv1 = nn.Conv2d(3, 64 // div, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = norm(64 // div)
        self.fc = nn.Linear(512 // div * block.expansion, kw.get('num_classes', 1000))

    def _make_layer(self, block, planes, blocks, stride=1, dilate=False):
        if planes == 64:
            self.inplanes = 64 // self.div
        return super()._make_layer(block, planes // self.div, blocks, stride, dilate)


def build(name):
    """(model, input size) of one zoo architecture."""
    if name == 'resnet18':
        return SlimResNet(resnet.BasicBlock, [2, 2, 2, 2], div=16, num_classes=CLASSES), 32
    if name == 'resnet50':
        return SlimResNet(resnet.Bottleneck, [1, 2, 2, 1], div=16, num_classes=CLASSES), 32
    if name == 'vgg11_bn':
        # AdaptiveAvgPool2d(7) then Flatten [B, C, 7, 7] → [B, 49·C]: the final map must be 7×7
        # (the exporter only writes adaptive pooling with divisible sizes), hence 224 px.
        cfg = [4, 'M', 8, 'M', 16, 16, 'M', 32, 32, 'M', 32, 32, 'M']
        m = vgg.VGG(vgg.make_layers(cfg, batch_norm=True), num_classes=CLASSES)
        m.classifier = nn.Sequential(
            nn.Linear(32 * 7 * 7, 32), nn.ReLU(True), nn.Dropout(),
            nn.Linear(32, 32), nn.ReLU(True), nn.Dropout(),
            nn.Linear(32, CLASSES),
        )
        return m, 224
    if name == 'densenet121':
        # densenet121's layout (4 dense blocks, bottleneck layers, transitions) with fewer layers.
        return densenet.DenseNet(growth_rate=8, block_config=(2, 2, 2, 2), num_init_features=16, bn_size=2,
                                 num_classes=CLASSES), 32
    if name == 'mobilenet_v2':
        # width_mult=0.25; the last 1×1 conv (1280 wide whatever width_mult) narrowed to 256.
        m = mobilenetv2.MobileNetV2(num_classes=CLASSES, width_mult=0.25)
        m.features[-1] = mobilenetv2.Conv2dNormActivation(80, 256, kernel_size=1, activation_layer=nn.ReLU6)
        m.classifier[1] = nn.Linear(256, CLASSES)
        return m, 32
    if name == 'efficientnet_b0':
        setting, _ = efficientnet._efficientnet_conf('efficientnet_b0', width_mult=0.25, depth_mult=0.25)
        return efficientnet.EfficientNet(setting, 0.2, num_classes=CLASSES, last_channel=256), 32
    if name == 'vit':
        return vision_transformer.VisionTransformer(image_size=32, patch_size=8, num_layers=2, num_heads=2,
                                                    hidden_dim=32, mlp_dim=64, num_classes=CLASSES), 32
    if name == 'convnext':
        cfg = convnext.CNBlockConfig
        setting = [cfg(8, 16, 1), cfg(16, 32, 1), cfg(32, 64, 1), cfg(64, None, 1)]
        return convnext.ConvNeXt(setting, stochastic_depth_prob=0.0, num_classes=CLASSES), 32
    if name == 'swin':
        # swin_t's layout (patch embedding, shifted windows, patch merging) with two stages of one block.
        return swin_transformer.SwinTransformer(patch_size=[4, 4], embed_dim=16, depths=[1, 1], num_heads=[2, 2],
                                                window_size=[4, 4], num_classes=CLASSES), 32
    raise ValueError(name)


def noisy(model, seed):
    """Seeded random weights, then noise on every float constant (parameters and buffers)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, t in list(model.state_dict(keep_vars=True).items()):
            if not t.dtype.is_floating_point:
                continue
            if name.endswith('running_var'):
                t.copy_(0.5 + 1.5 * torch.rand(t.shape, generator=g))
                continue
            scale = float(t.std()) if t.numel() > 1 and float(t.std()) > 0 else 0.1
            t.add_(0.3 * scale * torch.randn(t.shape, generator=g))
    return model


def export(model, size, path, bn_kept, dynamic):
    model.eval()
    x = torch.randn(1, 3, size, size, generator=torch.Generator().manual_seed(0))
    kw = dict(input_names=['input'], output_names=['logits'])
    if dynamic:
        kw['dynamic_axes'] = {'input': {0: 'batch'}, 'logits': {0: 'batch'}}
    if bn_kept:
        kw['training'] = torch.onnx.TrainingMode.PRESERVE
    # Grad enabled: under no_grad nn.MultiheadAttention takes a fast path the exporter rejects.
    torch.onnx.export(model, x, path, **kw)
    with torch.no_grad():
        y = model(x)
    return x, y


SPECS = [
    # (architecture, variants as (suffix, bn kept, dynamic batch))
    ('resnet18', [('folded', False, False), ('bn', True, True), ('dyn', False, True)]),
    ('resnet50', [('folded', False, False), ('bn', True, True)]),
    ('vgg11_bn', [('folded', False, False), ('bn', True, True)]),
    ('densenet121', [('folded', False, False), ('bn', True, True)]),
    ('mobilenet_v2', [('folded', False, False), ('bn', True, True)]),
    ('efficientnet_b0', [('folded', False, False), ('bn', True, True)]),
    ('vit', [('fixed', False, False), ('dyn', False, True)]),
    ('convnext', [('fixed', False, False), ('dyn', False, True)]),
    ('swin', [('dyn', False, True)]),
]


def main(only):
    os.makedirs(OUT, exist_ok=True)
    manifest = []
    for i, (arch, variants) in enumerate(SPECS):
        if only and arch not in only:
            continue
        torch.manual_seed(1000 + i)
        model, size = build(arch)
        noisy(model, 2000 + i)
        params = sum(p.numel() for p in model.parameters())
        for suffix, bn_kept, dynamic in variants:
            path = os.path.join(OUT, f'{arch}.{suffix}.onnx')
            x, y = export(model, size, path, bn_kept, dynamic)
            digest = hashlib.sha256(open(path, 'rb').read()).hexdigest()
            manifest.append({
                'file': os.path.basename(path), 'architecture': arch, 'input': [1, 3, size, size],
                'batchNorm': 'kept' if bn_kept else 'folded', 'batch': 'dynamic' if dynamic else 'fixed',
                'parameters': params, 'seed': 2000 + i, 'bytes': os.path.getsize(path), 'sha256': digest,
                'torch': torch.__version__, 'torchvision': torchvision.__version__,
                # Logits of torch on the seeded input (first 4), to check the export runs the same.
                'logitsHead': [round(float(v), 5) for v in y[0, :4]],
            })
            print(f'{path}: {os.path.getsize(path)} bytes, {params} parameters', file=sys.stderr)
    if not only:
        with open(os.path.join(OUT, 'manifest.json'), 'w') as f:
            json.dump(manifest, f, indent=2)
            f.write('\n')


if __name__ == '__main__':
    main(sys.argv[1:])
