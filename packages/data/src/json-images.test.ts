import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FormatError, NotFoundError } from '@zipit/core';
import { ImageJsonDecoder, readJsonImages } from './json-images.js';

const encoder = new TextEncoder();

/** Decodes a document split into chunks at the given byte positions. */
function decode(layout: 'unit-flat' | 'byte-nested', text: string, pixels: number, cuts: number[] = []): number[][] {
  const bytes = encoder.encode(text);
  const decoder = new ImageJsonDecoder(layout, pixels, 'test.json');
  const out: number[][] = [];
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    decoder.push(bytes.subarray(from, cut), (img) => {
      out.push([...img]);
      return true;
    });
    from = cut;
  }
  decoder.end();
  return out;
}

describe('ImageJsonDecoder', () => {
  it('splits the flat float layout into images and recovers the bytes (round(v·255))', () => {
    const text = '{ "data": [0,0.004,1,0.502, 0.996,0,0.027,1] }';
    expect(decode('unit-flat', text, 4)).toEqual([
      [0, 1, 255, 128],
      [254, 0, 7, 255],
    ]);
  });

  it('reads the nested byte layout and skips empty entries', () => {
    const text = '{"data":[[0,12,255],[],[7,8,9],[]]}';
    expect(decode('byte-nested', text, 3)).toEqual([
      [0, 12, 255],
      [7, 8, 9],
    ]);
  });

  it('gives the same images whatever the chunk boundaries', () => {
    const text = '{"data":[[0,12,255],[],[7,8,9],[100,200,250]]}';
    const whole = decode('byte-nested', text, 3);
    for (let cut = 1; cut < text.length; cut++) expect(decode('byte-nested', text, 3, [cut])).toEqual(whole);
    const flat = '{"data":[0.2,0.624,0.992,0.196]}';
    for (let cut = 1; cut < flat.length; cut++)
      expect(decode('unit-flat', flat, 2, [cut])).toEqual([
        [51, 159],
        [253, 50],
      ]);
  });

  it('stops when the callback says so', () => {
    const decoder = new ImageJsonDecoder('byte-nested', 1, 'x.json');
    const seen: number[] = [];
    const more = decoder.push(encoder.encode('{"data":[[1],[2],[3]]}'), (img, i) => {
      seen.push(img[0]);
      return i < 1;
    });
    expect(more).toBe(false);
    expect(seen).toEqual([1, 2]);
  });

  it.each([
    ['byte-nested', '{"data":[[1,2],[3]]}', 'image 1 has 1 pixels, expected 2'],
    ['byte-nested', '{"data":[[1,2,3]]}', 'more than 2 pixels'],
    ['byte-nested', '{"data":[[1,256]]}', 'not a byte'],
    ['byte-nested', '{"data":[[1,2.5]]}', 'not a byte'],
    ['byte-nested', '{"data":[1,2]}', 'outside the image arrays'],
    ['unit-flat', '{"data":[0.5,1.5]}', 'not a byte/255'],
    ['unit-flat', '{"data":[0.5,0.1234]}', 'not a byte/255'],
    ['unit-flat', '{"data":[0,1,0]}', 'ends inside an image'],
    ['unit-flat', '{"data":[-1,0]}', 'unexpected character "-"'],
    ['unit-flat', '{"data":[1e0,0]}', 'unexpected character "e"'],
    ['unit-flat', '{"data":[[0,1]]}', 'nested deeper'],
    ['unit-flat', '{"data":[0,1', 'truncated'],
  ] as const)('refuses a %s file %j with a FormatError naming the file', (layout, text, problem) => {
    expect(() => decode(layout, text, 2)).toThrow(FormatError);
    expect(() => decode(layout, text, 2)).toThrow(problem);
    expect(() => decode(layout, text, 2)).toThrow('test.json');
  });
});

describe('readJsonImages', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'zipit-json-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('yields copies of the images in [start, end), across read chunks', async () => {
    const images = Array.from({ length: 3000 }, (_, i) => [i % 256, (i * 7) % 256]);
    const file = join(dir, 'many.json');
    await writeFile(file, JSON.stringify({ data: images }));
    const got: number[][] = [];
    for await (const img of readJsonImages(file, 'byte-nested', 2, 1000, 2500)) got.push([...img]);
    expect(got).toEqual(images.slice(1000, 2500));
    let all = 0;
    for await (const img of readJsonImages(file, 'byte-nested', 2)) expect([...img]).toEqual(images[all++]);
    expect(all).toBe(3000);
  });

  it('names a missing file with a NotFoundError', async () => {
    const iter = readJsonImages(join(dir, 'nope.json'), 'byte-nested', 2);
    await expect(iter.next()).rejects.toThrow(NotFoundError);
  });
});
