"""Fixtures for the image-folder preprocessing parity test (packages/data/src/image-preprocess.test.ts).

Writes a handful of small synthetic images (JPEG, PNG grey/RGB/RGBA, WebP; landscape, portrait,
square, smaller and larger than the crops) to packages/data/fixtures/images/, then computes what
torchvision's ImageFolder pipeline makes of each of them -- the default loader
(PIL open + convert('RGB')), then Resize(shorter side) + CenterCrop + ToTensor + Normalize --
and saves the tensors as float32 .npy in packages/data/fixtures/reference/. CI has no Python:
the outputs are committed; rerun only to regenerate them (Debian python3-torch 1.13,
python3-torchvision 0.14, Pillow 9.4):

    /usr/bin/python3 packages/data/scripts/make-preprocess-fixtures.py
"""
import json
import os

import numpy as np
import torch
import torchvision
from PIL import Image
from torchvision import transforms as T

torch.set_num_threads(1)
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, '..', 'fixtures')
IMAGES = os.path.join(ROOT, 'images')
REFERENCE = os.path.join(ROOT, 'reference')

CIFAR = ((0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616))
IMAGENET = ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))
MNIST = ((0.1307,), (0.3081,))

# name -> (transform, which images). Names match the test's configurations.
CONFIGS = {
    'rgb36c32': (T.Compose([T.Resize(36), T.CenterCrop(32), T.ToTensor(), T.Normalize(*CIFAR)]), 'all'),
    'grey28': (T.Compose([T.Grayscale(1), T.Resize(28), T.CenterCrop(28), T.ToTensor(), T.Normalize(*MNIST)]), 'all'),
    'imagenet': (T.Compose([T.Resize(256), T.CenterCrop(224), T.ToTensor(), T.Normalize(*IMAGENET)]), ['photo-300x260.jpg']),
}


def scene(w, h, seed):
    """A smooth colour scene with edges and some noise: gradients, discs and stripes."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    img = np.zeros((h, w, 3))
    for c in range(3):
        fx, fy, ph = rng.uniform(0.5, 3), rng.uniform(0.5, 3), rng.uniform(0, 6.28)
        img[..., c] = 0.5 + 0.35 * np.sin(fx * x / w * 6.28 + fy * y / h * 6.28 + ph)
    for _ in range(4):
        cx, cy, r = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(0.1, 0.3) * min(w, h)
        inside = (x - cx) ** 2 + (y - cy) ** 2 < r * r
        img[inside] = rng.uniform(0, 1, 3)
    img[:, (np.arange(w) // 5) % 7 == 0] *= 0.3
    img += rng.normal(0, 0.03, img.shape)
    return (np.clip(img, 0, 1) * 255 + 0.5).astype(np.uint8)


def write_images():
    os.makedirs(IMAGES, exist_ok=True)
    Image.fromarray(scene(64, 48, 1)).save(os.path.join(IMAGES, 'scene-64x48.jpg'), quality=90)
    Image.fromarray(scene(50, 70, 2)).save(os.path.join(IMAGES, 'scene-50x70.png'))
    rgba = np.concatenate([scene(40, 40, 3), np.linspace(0, 255, 40 * 40).reshape(40, 40, 1).astype(np.uint8)], axis=2)
    Image.fromarray(rgba, 'RGBA').save(os.path.join(IMAGES, 'alpha-40x40.png'))
    Image.fromarray(scene(28, 28, 4)).convert('L').save(os.path.join(IMAGES, 'grey-28x28.png'))
    Image.fromarray(scene(45, 45, 5)).convert('L').save(os.path.join(IMAGES, 'grey-45x45.jpg'), quality=85)
    Image.fromarray(scene(80, 60, 6)).save(os.path.join(IMAGES, 'scene-80x60.webp'), quality=80)
    Image.fromarray(scene(300, 260, 7)).save(os.path.join(IMAGES, 'photo-300x260.jpg'), quality=90)


def main():
    write_images()
    os.makedirs(REFERENCE, exist_ok=True)
    names = sorted(os.listdir(IMAGES))
    manifest = {'torch': torch.__version__, 'torchvision': torchvision.__version__, 'pillow': Image.__version__, 'references': []}
    for config, (transform, which) in CONFIGS.items():
        for name in names if which == 'all' else which:
            with open(os.path.join(IMAGES, name), 'rb') as f:
                image = Image.open(f).convert('RGB')  # torchvision.datasets.folder.pil_loader
            x = transform(image).numpy().astype(np.float32)
            out = f'{name}.{config}.npy'
            np.save(os.path.join(REFERENCE, out), x)
            manifest['references'].append({'image': name, 'config': config, 'file': out, 'shape': list(x.shape)})
    with open(os.path.join(REFERENCE, 'manifest.json'), 'w') as f:
        json.dump(manifest, f, indent=2)
        f.write('\n')


if __name__ == '__main__':
    main()
