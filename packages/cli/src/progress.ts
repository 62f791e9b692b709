/**
 * A one-line progress display on stderr for passes over data. Draws only when stderr is a TTY
 * and --quiet was not given; otherwise every call is a no-op, so piped output stays clean.
 */
export class ProgressLine {
  private last = 0;
  private shown = false;
  /** The label of the pass being drawn, when it started and at what count (for the rate). */
  private pass: { label: string; start: number; from: number } | null = null;

  constructor(
    private readonly enabled: boolean,
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {}

  /** Shows `label: done/total unit` with a bar (total may be unknown) and the rate per second. Throttled to ~10 Hz. */
  update(label: string, done: number, total: number | null, unit = 'images'): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (this.pass?.label !== label || done < this.pass.from) this.pass = { label, start: now, from: done };
    if (now - this.last < 100 && done !== total) return;
    this.last = now;
    let text = `${label}: ${done}${total ? `/${total}` : ''} ${unit}`;
    if (total) {
      const width = 24;
      const filled = Math.min(width, Math.round((done / total) * width));
      text = `${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} ${unit}`;
    }
    const seconds = (now - this.pass.start) / 1000;
    if (seconds >= 0.5) text += `, ${((done - this.pass.from) / seconds).toFixed(unit === 'images' ? 0 : 1)} ${unit}/s`;
    this.stream.write(`\r\x1b[2K${text}`);
    this.shown = true;
  }

  /** Clears the line (call when a pass ends). */
  done(): void {
    if (this.enabled && this.shown) this.stream.write('\r\x1b[2K');
    this.shown = false;
    this.pass = null;
  }
}
