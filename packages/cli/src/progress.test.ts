import { afterEach, describe, expect, it, vi } from 'vitest';
import { ProgressLine } from './progress.js';

function capture(): { stream: NodeJS.WriteStream; lines: string[] } {
  const lines: string[] = [];
  return { lines, stream: { write: (s: string) => lines.push(s.replace('\r\x1b[2K', '')) } as unknown as NodeJS.WriteStream };
}

describe('ProgressLine', () => {
  afterEach(() => vi.useRealTimers());

  it('shows the rate of the current pass in images/s, from when that pass started', () => {
    vi.useFakeTimers();
    vi.setSystemTime(0);
    const { stream, lines } = capture();
    const bar = new ProgressLine(true, stream);
    bar.update('statistics', 0, 512);
    vi.setSystemTime(2000);
    bar.update('statistics', 256, 512);
    expect(lines.at(-1)).toMatch(/statistics \[#+\.+\] 256\/512 images, 128 images\/s$/);
    vi.setSystemTime(3000);
    bar.update('BatchNorm reset', 0, 512);
    vi.setSystemTime(4000);
    bar.update('BatchNorm reset', 100, 512);
    expect(lines.at(-1)).toMatch(/100\/512 images, 100 images\/s$/);
  });

  it('draws nothing when disabled', () => {
    const { stream, lines } = capture();
    const bar = new ProgressLine(false, stream);
    bar.update('statistics', 10, 20);
    bar.done();
    expect(lines).toEqual([]);
  });
});
