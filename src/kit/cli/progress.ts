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

/** Where phases are written: stderr, or a stand-in in tests. */
export interface PhaseStream {
  isTTY?: boolean;
  write(text: string): unknown;
}

/** A running phase of a long command: change its detail, then end it. */
export interface Phase {
  /** What has been done so far (`18,532 orders`), shown after the label. */
  update(detail: string): void;
  /** Ends the phase, leaving `label… detail (elapsed)` on its own line. */
  done(detail?: string): void;
  /** Ends the phase without a line (the command's error says what happened). */
  fail(): void;
}

const SPINNER = ['|', '/', '-', '\\'];
const elapsed = (ms: number) => (ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`);

/**
 * One phase of a long command on stderr, only when stderr is a terminal (so pipes, `--json` consumers
 * and tests see nothing): `label… detail 1.2 s` with a spinner, redrawn every 100 ms while the event
 * loop is free (database work; a long synchronous computation holds the line until it returns), and
 * `label… detail (3.4 s)` when done. Never on stdout.
 */
export function phase(label: string, stream: PhaseStream = process.stderr): Phase {
  if (stream.isTTY !== true) return { update() {}, done() {}, fail() {} };
  const started = performance.now();
  let detail = '';
  let tick = 0;
  const draw = () =>
    stream.write(
      `\r\x1b[K${SPINNER[tick++ % SPINNER.length]} ${label}…${detail ? ` ${detail}` : ''} ${elapsed(performance.now() - started)}`,
    );
  draw();
  const timer = setInterval(draw, 100);
  timer.unref();
  let ended = false;
  const end = () => {
    ended = true;
    clearInterval(timer);
  };
  return {
    update(d) {
      if (ended) return;
      detail = d;
      draw();
    },
    done(d) {
      if (ended) return;
      end();
      if (d !== undefined) detail = d;
      stream.write(
        `\r\x1b[K${label}…${detail ? ` ${detail}` : ''} (${elapsed(performance.now() - started)})\n`,
      );
    },
    fail() {
      if (ended) return;
      end();
      stream.write('\r\x1b[K');
    },
  };
}

/**
 * Runs `run` as a {@link phase}: done with `summary(result)` when it resolves, cleared when it throws
 * (the error is rethrown unchanged).
 */
export async function phased<T>(
  label: string,
  run: (p: Phase) => Promise<T>,
  summary?: (result: T) => string,
  stream?: PhaseStream,
): Promise<T> {
  const p = phase(label, stream);
  try {
    const result = await run(p);
    p.done(summary?.(result));
    return result;
  } catch (err) {
    p.fail();
    throw err;
  }
}

/** `18532` → `18,532` (counts in progress lines). */
export const count = (n: number): string => n.toLocaleString('en-US');
