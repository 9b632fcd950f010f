/**
 * A plain progress bar for long offline work, on stderr, redrawn at most 10 times a second.
 * Silent when stderr is not a terminal except for a final line, so logs stay clean.
 *
 * @example
 * const p = new Progress('scoring', totalBytes); p.update(done); p.done();
 */
export class Progress {
  private last = 0;
  private readonly started = Date.now();
  private readonly tty = process.stderr.isTTY;

  constructor(
    private readonly label: string,
    private readonly total: number,
  ) {}

  update(done: number): void {
    if (!this.tty) return;
    const now = Date.now();
    if (now - this.last < 100) return;
    this.last = now;
    const frac = this.total > 0 ? Math.min(1, done / this.total) : 0;
    const width = 30;
    const filled = Math.round(frac * width);
    const elapsed = (now - this.started) / 1000;
    const eta = frac > 0 ? elapsed / frac - elapsed : 0;
    process.stderr.write(
      `\r${this.label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(frac * 100).toFixed(0).padStart(3)}%  ${elapsed.toFixed(0)} s elapsed, ~${eta.toFixed(0)} s left `,
    );
  }

  done(): void {
    const secs = ((Date.now() - this.started) / 1000).toFixed(1);
    process.stderr.write(`${this.tty ? '\r' : ''}${this.label}: done in ${secs} s${' '.repeat(40)}\n`);
  }
}
