/** A one-line progress bar on stderr (only when stderr is a terminal): percent, rows/s and ETA. */
export function progressBar(label: string): {
  update(p: { rows: number; bytesRead: number; bytesTotal: number }): void;
  done(): void;
} {
  const tty = process.stderr.isTTY === true;
  const started = performance.now();
  let last = 0;
  return {
    update(p) {
      if (!tty) return;
      const now = performance.now();
      if (now - last < 100) return;
      last = now;
      const secs = (now - started) / 1000;
      const frac = p.bytesTotal > 0 ? Math.min(1, p.bytesRead / p.bytesTotal) : 0;
      const width = 24;
      const filled = Math.round(frac * width);
      const rate = secs > 0 ? Math.round(p.rows / secs) : 0;
      const eta = frac > 0 ? Math.max(0, secs / frac - secs) : 0;
      process.stderr.write(
        `\r${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(frac * 100).toFixed(0).padStart(3)}% ` +
          `${p.rows.toLocaleString('en-US')} rows ${rate.toLocaleString('en-US')} rows/s ETA ${eta.toFixed(0)}s   `,
      );
    },
    done() {
      if (tty) process.stderr.write('\r\x1b[K');
    },
  };
}
