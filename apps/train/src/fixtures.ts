import type { TrainConfig } from './train.js';

/**
 * The fixture models: two pairs of the same architecture trained from different seeds on
 * disjoint class splits. Changing anything here changes the fixtures; retrain with `pnpm train`.
 */
const common = { momentum: 0.9, weightDecay: 5e-4, warmup: 0.15 } as const;

export const FIXTURES: readonly TrainConfig[] = [
  {
    ...common,
    name: 'resnet20_mnist_0-4',
    model: { arch: 'resnet20', width: 8 },
    data: 'mnist:0-4',
    seed: 1,
    epochs: 3,
    batchSize: 64,
    lr: 0.1,
    augment: { flip: false, shift: 0 },
  },
  {
    ...common,
    name: 'resnet20_mnist_5-9',
    model: { arch: 'resnet20', width: 8 },
    data: 'mnist:5-9',
    seed: 2,
    epochs: 3,
    batchSize: 64,
    lr: 0.1,
    augment: { flip: false, shift: 0 },
  },
  {
    ...common,
    name: 'vgg11_fashion_0-4',
    model: { arch: 'vgg11', width: 8 },
    data: 'fashion:0-4',
    seed: 3,
    epochs: 2,
    batchSize: 128,
    lr: 0.1,
    augment: { flip: true, shift: 0 },
  },
  {
    ...common,
    name: 'vgg11_fashion_5-9',
    model: { arch: 'vgg11', width: 8 },
    data: 'fashion:5-9',
    seed: 4,
    epochs: 2,
    batchSize: 128,
    lr: 0.1,
    augment: { flip: true, shift: 0 },
  },
];
