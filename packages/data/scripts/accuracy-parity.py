"""Effect of zipit's image preprocessing (sharp) vs torchvision's (PIL) on accuracy -- the figures
in the README's "Image folders" section. Not run by CI.

Takes the MNIST test digits written by `pnpm zipit export-images mnist:test --out DIR/png`, writes
two variants that make the libraries differ -- JPEG (quality 75, decoded by each library's
libjpeg) and 64x64 PNG enlarged with PIL's bicubic (so Resize(28) shrinks 2.3x) -- and, for each,
the tensors torchvision makes of every image for a [N, 3, 32, 32] input (ImageFolder loader,
Resize(28), CenterCrop(32), ToTensor, Normalize(0.1307, 0.3081): the `mnist` preset) as
DIR/<variant>-<classes>.x.npy / .y.npy, classes 0-4 and 5-9 labelled 0..4.

    /usr/bin/python3 packages/data/scripts/accuracy-parity.py DIR
    then compare, per variant and task:
    pnpm zipit eval fixtures/models/resnet20_mnist_0-4.onnx --task a=DIR/jpeg:0-4 --preprocess mnist --json
    pnpm zipit eval fixtures/models/resnet20_mnist_0-4.onnx --task a=DIR/jpeg-0-4.x.npy:DIR/jpeg-0-4.y.npy --json
"""
import os
import sys

import numpy as np
import torch
from PIL import Image
from torchvision import transforms as T

torch.set_num_threads(1)
root = sys.argv[1]
src = os.path.join(root, 'png')
transform = T.Compose([T.Resize(28), T.CenterCrop(32), T.ToTensor(), T.Normalize((0.1307,), (0.3081,))])
variants = {
    'jpeg': (lambda im: im, 'jpg', {'quality': 75}),
    'big': (lambda im: im.resize((64, 64), Image.BICUBIC), 'png', {}),
}
for name, (change, ext, save) in variants.items():
    for cls in sorted(os.listdir(src)):
        os.makedirs(os.path.join(root, name, cls), exist_ok=True)
        for f in sorted(os.listdir(os.path.join(src, cls))):
            change(Image.open(os.path.join(src, cls, f))).save(os.path.join(root, name, cls, f[:-4] + '.' + ext), **save)
    for lo, hi in ((0, 4), (5, 9)):
        xs, ys = [], []
        for label, cls in enumerate(str(c) for c in range(lo, hi + 1)):
            for f in sorted(os.listdir(os.path.join(root, name, cls))):
                with open(os.path.join(root, name, cls, f), 'rb') as fh:
                    xs.append(transform(Image.open(fh).convert('RGB')).numpy())
                ys.append(label)
        np.save(os.path.join(root, f'{name}-{lo}-{hi}.x.npy'), np.stack(xs).astype(np.float32))
        np.save(os.path.join(root, f'{name}-{lo}-{hi}.y.npy'), np.array(ys, dtype=np.int64))
        print(name, lo, hi, len(ys))
