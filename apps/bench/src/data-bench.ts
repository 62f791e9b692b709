/**
 * Data-path benchmark: is decoding and preprocessing image files ever the bottleneck of a merge?
 *
 *   pnpm --filter @zipit/bench bench:data [--quick]
 *
 * Writes 224×224 JPEGs (synthetic scenes, quality 90) to a temporary image folder, then measures
 * in the same run:
 * (a) data path: images/s of `openDataset(folder)` with the imagenet preset (sharp decode,
 *     Resize(256), CenterCrop(224), Normalize) for a [N, 3, 224, 224] input, batches of 16;
 * (b) model: images/s of a ResNet-50 forward pass at 224 (packages/arch-resnet's torchvision
 *     ResNet-50, seeded weights) in onnxruntime, batches of 16;
 * (c) both together: the folder's batches fed to the ResNet-50, as a statistics pass consumes
 *     them (decoding of the next batch overlaps the forward pass).
 * Prints the ratio (a)/(b) and the data path's share of a merge's statistics pass of two models
 * — t_data / (t_data + 2·t_forward), with no overlap counted — which must stay ≤ 25 %, and the
 * overhead (c) shows over forward passes alone. Passes alternate; the best of each is compared.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildResNet50 } from '@zipit/arch-resnet';
import { SeededRandom, tensor } from '@zipit/core';
import { openDataset, writeImageFile } from '@zipit/data';
import { ModelSession, defaultThreads } from '@zipit/runtime-ort';

const quick = process.argv.includes('--quick');
const IMAGES = quick ? 32 : 96;
const FORWARD_IMAGES = quick ? 16 : 32;
const BATCH = 16;
const ROUNDS = quick ? 1 : 2;

/** A smooth 224×224 colour scene with discs and noise, so JPEG decoding does realistic work. */
function scene(seed: number): Uint8Array {
  const rng = new SeededRandom(seed);
  const size = 224;
  const px = new Uint8Array(size * size * 3);
  const f = [0, 1, 2].map(() => [1 + 3 * rng.next(), 1 + 3 * rng.next(), 6.28 * rng.next()]);
  const discs = Array.from({ length: 5 }, () => [
    size * rng.next(),
    size * rng.next(),
    15 + 40 * rng.next(),
    255 * rng.next(),
    255 * rng.next(),
    255 * rng.next(),
  ]);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const o = (y * size + x) * 3;
      for (let c = 0; c < 3; c++) px[o + c] = 128 + 100 * Math.sin((f[c][0] * x + f[c][1] * y) / 40 + f[c][2]) + 20 * (rng.next() - 0.5);
      for (const [cx, cy, r, R, G, B] of discs) {
        if ((x - cx) ** 2 + (y - cy) ** 2 < r * r) {
          px[o] = R;
          px[o + 1] = G;
          px[o + 2] = B;
        }
      }
    }
  }
  return px;
}

async function writeFolder(dir: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  for (let i = 0; i < IMAGES; i++) {
    await writeImageFile(join(dir, `img_${String(i).padStart(4, '0')}.jpg`), { pixels: scene(i), width: 224, height: 224, channels: 3 }, 'jpeg', 90);
  }
}

async function main(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'zipit-data-bench-'));
  const folder = join(root, 'jpegs');
  try {
    await writeFolder(folder);
    const graph = buildResNet50({ seed: 1, imageSize: 224, classes: 1000 });
    const input = graph.inputs[0];
    const data = await openDataset(folder, { defaultSplit: 'train', input, images: { preset: 'imagenet' } });
    const threads = defaultThreads();
    const session = await ModelSession.create(graph, { threads });
    const x = tensor(
      'float32',
      [BATCH, 3, 224, 224],
      Float32Array.from({ length: BATCH * 3 * 224 * 224 }, (_, i) => Math.sin(i)),
    );
    await session.run({ [input.name]: x }); // warm-up

    const best = { data: Infinity, forward: Infinity, both: Infinity };
    for (let round = 0; round < ROUNDS; round++) {
      let t = performance.now();
      let n = 0;
      for await (const b of data.batches({ batchSize: BATCH })) n += b.x.shape[0];
      best.data = Math.min(best.data, (performance.now() - t) / n);

      t = performance.now();
      for (let i = 0; i < FORWARD_IMAGES; i += BATCH) await session.run({ [input.name]: x });
      best.forward = Math.min(best.forward, (performance.now() - t) / FORWARD_IMAGES);

      t = performance.now();
      n = 0;
      for await (const b of data.batches({ batchSize: BATCH, limit: FORWARD_IMAGES })) {
        await session.run({ [input.name]: b.x });
        n += b.x.shape[0];
      }
      best.both = Math.min(best.both, (performance.now() - t) / n);
    }
    await session.release();

    const share = best.data / (best.data + 2 * best.forward);
    const line = (label: string, ms: number) => console.log(`${label.padEnd(58)} ${(1000 / ms).toFixed(1).padStart(8)} images/s  (${ms.toFixed(2)} ms/image)`);
    console.log(`data path vs ResNet-50 at 224 (${IMAGES} JPEGs 224×224 q90, batches of ${BATCH}, onnxruntime threads ${threads}, best of ${ROUNDS})`);
    line('(a) decode + Resize(256) + CenterCrop(224) + Normalize', best.data);
    line('(b) ResNet-50 forward pass', best.forward);
    line('(c) folder batches fed to the ResNet-50 (decoding overlapped)', best.both);
    console.log(`ratio (a)/(b): the data path is ${(best.forward > 0 ? best.forward / best.data : 0).toFixed(1)}× faster than one forward pass`);
    console.log(
      `data share of a 2-model statistics pass (no overlap counted): ${(100 * share).toFixed(1)} % (target ≤ 25 %) ${share <= 0.25 ? 'OK' : 'MISSED'}`,
    );
    console.log(`(c) over (b): ${(100 * (best.both / best.forward - 1)).toFixed(1)} % added to forward passes by reading the images`);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

await main();
