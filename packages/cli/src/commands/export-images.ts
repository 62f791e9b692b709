import { InvalidArgumentError } from '@zipit/core';
import { exportBuiltinImages, parseDatasetSpec, type BuiltinSpec, type ExportFormat } from '@zipit/data';
import { parseArgs, parseNumberOption, requireFlag, UsageError, usageErrors, type Command } from '../command.js';
import { ProgressLine } from '../progress.js';

export const exportImagesCommand: Command = {
  name: 'export-images',
  summary: 'write images of a built-in dataset as an image folder (one subfolder per class)',
  help: `usage: zipit export-images SPEC --out DIR [--per-class N] [--format png|jpeg|webp] [--quality Q] [--quiet]

Writes the 28×28 grey images of a built-in dataset spec as DIR/<class>/<class>_<index>.<ext>,
one folder per original class number, the first N of each class in the split (default: test).
The result is an ImageFolder tree that --data DIR and --task NAME=DIR read: with PNG (lossless)
and --preprocess mnist it gives the built-in spec's inputs. DIR must not exist or be empty; it
is written whole or not at all.

options:
  --out DIR        the folder to create
  --per-class N    images per class (default: all of the split)
  --format F       png (default), jpeg or webp
  --quality Q      jpeg/webp quality 1–100 (default 90)

example:
  zipit export-images mnist:train --out digits/train --per-class 50
  zipit export-images mnist:test --out digits/test`,

  async run(argv, io) {
    const { values, positionals } = usageErrors(() =>
      parseArgs({
        args: argv,
        allowPositionals: true,
        options: {
          out: { type: 'string' },
          'per-class': { type: 'string' },
          format: { type: 'string' },
          quality: { type: 'string' },
          quiet: { type: 'boolean' },
        },
      }),
    );
    if (positionals.length !== 1) throw new UsageError(`give exactly one built-in dataset spec (got ${positionals.length})`);
    const out = requireFlag(values.out, '--out');
    const spec = parseDatasetSpec(positionals[0]);
    if (spec.kind !== 'builtin') throw new InvalidArgumentError(`export-images writes built-in datasets (mnist, fashion), not ${positionals[0]}`);
    const format = (values.format ?? 'png') as ExportFormat;
    if (!['png', 'jpeg', 'webp'].includes(format)) throw new InvalidArgumentError(`--format must be png, jpeg or webp, got "${values.format}"`);
    const perClass =
      values['per-class'] === undefined ? undefined : parseNumberOption(values['per-class'], '--per-class', { integer: true, min: 1, max: 1_000_000 });
    const quality = parseNumberOption(values.quality, '--quality', { integer: true, min: 1, max: 100 }, 90);
    const bar = new ProgressLine(io.interactive && !values.quiet);
    const summary = await exportBuiltinImages(spec as BuiltinSpec, out, {
      perClass,
      format,
      quality,
      signal: io.signal,
      onProgress: (done, total) => bar.update(`writing ${out}`, done, total),
    });
    bar.done();
    const count = summary.classes.reduce((n, c) => n + c.images, 0);
    if (!values.quiet) io.out(`wrote ${count} ${format.toUpperCase()} images to ${out}/ (${summary.classes.map((c) => `${c.name}: ${c.images}`).join(', ')})`);
    return 0;
  },
};
