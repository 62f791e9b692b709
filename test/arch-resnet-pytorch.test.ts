import { describe, expect, it } from 'vitest';
import { buildResNet20, resnetArch } from '@zipit/arch-resnet';
import { deriveMergeGraph, diffMergeGraphs } from '@zipit/core';
import { readOnnxFile } from '@zipit/io-onnx/node';

/**
 * The CIFAR ResNet-20 of the reference implementation as torch.onnx.export writes it
 * (packages/arch-resnet/fixtures/make_fixtures.py), with BatchNorm kept and folded: the plugin
 * recognises it, declares the 12 points the reference uses with readable names, and agrees with
 * the automatic derivation and with the builder's imitation of the same export.
 */
describe.each(['bn', 'folded'])('arch-resnet on a PyTorch-exported ResNet-20 (%s)', (flavour) => {
  const file = `packages/arch-resnet/fixtures/resnet20_w0.25_${flavour}_opset13.onnx`;

  it('recognises it and declares 12 points (9 inside blocks, 3 streams) equal to the derived ones', async () => {
    const g = await readOnnxFile(file);
    expect(resnetArch.recognise(g)).toMatchObject({ match: true, variant: 'resnet20' });
    const declared = resnetArch.mergeGraph(g);
    expect(declared.points.map((p) => p.name)).toEqual([
      'layer1.0.conv2:in',
      'layer1.1.conv2:in',
      'layer1.2.conv2:in',
      'layer1:stream',
      'layer2.0.conv2:in',
      'layer2.1.conv2:in',
      'layer2.2.conv2:in',
      'layer2:stream',
      'layer3.0.conv2:in',
      'layer3.1.conv2:in',
      'layer3.2.conv2:in',
      'layer3:stream',
    ]);
    expect(declared.points.map((p) => p.channels)).toEqual([4, 4, 4, 4, 8, 8, 8, 8, 16, 16, 16, 16]);
    expect(declared.heads.map((h) => [h.name, h.classes])).toEqual([['linear', 10]]);
    expect(diffMergeGraphs(declared, deriveMergeGraph(g))).toEqual([]);
  });

  it('matches the builder’s imitation of the export point for point', async () => {
    const g = await readOnnxFile(file);
    const built = buildResNet20({ seed: 1, width: 0.25, imageSize: 16, foldedBatchNorm: flavour === 'folded' });
    const key = (mg: ReturnType<typeof deriveMergeGraph>) =>
      mg.points.map((p) => [p.name, p.channels, p.stopPoint, p.producerNodes, p.consumerNodes, p.ties.map((t) => t.node)]);
    expect(key(resnetArch.mergeGraph(built))).toEqual(key(resnetArch.mergeGraph(g)));
  });
});
