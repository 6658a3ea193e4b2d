import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Transform, type TransformCallback } from 'node:stream';
import { Worker } from 'node:worker_threads';
import nodemailer from 'nodemailer';
import type SMTPPool from 'nodemailer/lib/smtp-pool/index.js';
import { invalid } from '../../../shared/errors.js';
import { packageRoot } from '../../../shared/packageRoot.js';

/**
 * Where the email channel's SMTP work runs. nodemailer builds each MIME message, encodes its parts and
 * streams it through the session on the thread that calls it: about 0.8 ms of CPU per marketing email,
 * as much as the send ledger and the rendering together. On its own worker thread (smtpWorker.ts) that
 * work runs beside the send path's instead of after it. The installed CLI and server use worker threads
 * when the bundled worker exists (dist/bundle/smtp-worker.cjs; RETAIN_EMAIL_THREADS of them, default
 * 1); `RETAIN_EMAIL_THREADS=0`, or code run from the sources, send on the calling thread. Either way a send resolves with the server's reply or
 * rejects with nodemailer's error fields (code, command, response, responseCode, timeoutType), so the
 * adapter maps both the same. A worker that stops fails its messages in flight with an error of no
 * code: the adapter's ambiguous retry (the server may have taken them); the next send starts a new one.
 */

export type SmtpOptions = SMTPPool.Options;

/** The mail fields the adapter sets: plain data, so they cross to a worker thread as they are. */
export interface SmtpMail {
  from: string;
  replyTo?: string;
  to: string;
  subject: string;
  text: string;
  html?: string;
  messageId: string;
  /** A `prepared` value goes out as it is (not folded). */
  headers: Record<string, string | { prepared: true; value: string }>;
  envelope: { from: string; to: string[] };
}

export interface SmtpTransport {
  /**
   * The server's final reply (`250 … queued as …`); rejects with nodemailer's error on failure.
   * `beforeEnd`, when given, is awaited with the whole message written to the session and before the
   * end of DATA (the `.` that makes the server take it); if it rejects, the session is closed without
   * ending DATA, so the server drops the message, and the send rejects.
   */
  send(mail: SmtpMail, beforeEnd?: () => Promise<void>): Promise<string>;
  close(): Promise<void>;
}

/** The error fields the adapter reads, carried across the thread boundary. */
export const ERROR_FIELDS = [
  'code',
  'originalCode',
  'command',
  'response',
  'responseCode',
  'timeoutType',
] as const;

export type WireError = { message: string } & Partial<Record<(typeof ERROR_FIELDS)[number], unknown>>;

export function toWire(err: unknown): WireError {
  const e = (err ?? {}) as Record<string, unknown>;
  const out: WireError = { message: err instanceof Error ? err.message : String(err) };
  for (const f of ERROR_FIELDS) if (e[f] !== undefined && e[f] !== null) out[f] = e[f];
  return out;
}

export function fromWire(w: WireError): Error {
  const { message, ...fields } = w;
  return Object.assign(new Error(message), fields);
}

/** Passes the message through and, at its end, waits for the gate before letting the end go on. */
class HoldEnd extends Transform {
  constructor(private readonly gate: () => Promise<void>) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback) {
    done(null, chunk);
  }
  override _flush(done: TransformCallback) {
    this.gate().then(
      () => done(),
      (err: unknown) => done(err instanceof Error ? err : new Error(String(err))),
    );
  }
}

/** Where a message's gate rides through nodemailer (its data is copied key by key to the plugins). */
const GATE = 'retainBeforeEnd';

/** Sends on the calling thread. */
export function inlineSmtp(options: SmtpOptions): SmtpTransport {
  const transport = nodemailer.createTransport(options);
  // The gate sits in the message stream, ahead of DKIM signing and the session's DATA stream: the
  // session writes the final `.` only after the stream ends (a stream error closes the connection).
  transport.use('stream', (mail, done) => {
    const gate = (mail.data as Record<string, unknown>)[GATE] as (() => Promise<void>) | undefined;
    if (gate) mail.message.transform(() => new HoldEnd(gate));
    done();
  });
  return {
    async send(mail, beforeEnd) {
      const data = (beforeEnd ? { ...mail, [GATE]: beforeEnd } : mail) as SmtpMail;
      const info = await transport.sendMail(data);
      return String(info.response ?? '');
    },
    async close() {
      transport.close();
    },
  };
}

/**
 * What the main thread posts to the worker, and what the worker answers. A message sent with a gate
 * (`hold`) stops before the end of DATA and asks (`ready`); the main thread runs the gate and answers
 * `go` (or `stop`, with the gate's error).
 */
export type ToWorker =
  | { id: number; mail: SmtpMail; hold: boolean }
  | { id: number; go: true }
  | { id: number; stop: string }
  | { close: true };
export type FromWorker =
  | { id: number; response: string }
  | { id: number; error: WireError }
  | { id: number; ready: true }
  | { closed: true };

/**
 * Sends on `threads` worker threads running `file` (smtpWorker.ts, bundled), the pool's connections
 * shared out between them; each message goes to the thread with the fewest in flight.
 */
export function threadSmtp(options: SmtpOptions, file: string, threads = 1): SmtpTransport {
  const connections = options.maxConnections ?? 5;
  const n = Math.max(1, Math.min(threads, connections));
  if (n === 1) return oneThread(options, file);
  const parts = Array.from({ length: n }, (_, i) => ({
    load: 0,
    t: oneThread(
      { ...options, maxConnections: Math.floor(connections / n) + (i < connections % n ? 1 : 0) },
      file,
    ),
  }));
  return {
    async send(mail, beforeEnd) {
      const part = parts.reduce((a, b) => (b.load < a.load ? b : a));
      part.load++;
      try {
        return await part.t.send(mail, beforeEnd);
      } finally {
        part.load--;
      }
    },
    async close() {
      await Promise.all(parts.map((p) => p.t.close()));
    },
  };
}

/** One worker thread: many messages in flight at once; it keeps the process alive only while some are. */
function oneThread(options: SmtpOptions, file: string): SmtpTransport {
  let worker: Worker | null = null;
  let nextId = 1;
  const pending = new Map<
    number,
    { done: (r: string) => void; fail: (e: Error) => void; gate: (() => Promise<void>) | undefined }
  >();
  let closing: Promise<void> | null = null;

  const start = (): Worker => {
    const w = new Worker(file, { workerData: options });
    const lost = (why: string) => {
      if (worker !== w) return;
      worker = null;
      const error = new Error(`the email worker thread stopped (${why}); the message may have been sent`);
      for (const p of pending.values()) p.fail(error);
      pending.clear();
    };
    w.on('message', (reply: FromWorker) => {
      if ('closed' in reply) return;
      const p = pending.get(reply.id);
      if (!p) return;
      if ('ready' in reply) {
        const gate = p.gate ?? (async () => undefined);
        gate().then(
          () => w.postMessage({ id: reply.id, go: true } satisfies ToWorker),
          (err: unknown) =>
            w.postMessage({
              id: reply.id,
              stop: err instanceof Error ? err.message : String(err),
            } satisfies ToWorker),
        );
        return;
      }
      pending.delete(reply.id);
      if (pending.size === 0) w.unref();
      if ('error' in reply) p.fail(fromWire(reply.error));
      else p.done(reply.response);
    });
    w.on('error', (err) => lost(err.message));
    w.on('exit', (code) => lost(`exit code ${code}`));
    w.unref();
    return w;
  };

  return {
    send(mail, beforeEnd) {
      if (closing) return Promise.reject(new Error('the email channel is closed'));
      worker ??= start();
      const w = worker;
      const id = nextId++;
      return new Promise<string>((done, fail) => {
        pending.set(id, { done, fail, gate: beforeEnd });
        if (pending.size === 1) w.ref();
        w.postMessage({ id, mail, hold: beforeEnd !== undefined } satisfies ToWorker);
      });
    },
    close() {
      closing ??= (async () => {
        const w = worker;
        if (!w) return;
        // Messages in flight finish first; then the worker closes its connections and exits.
        while (pending.size > 0) await new Promise((r) => setTimeout(r, 5));
        worker = null;
        w.ref();
        const exited = new Promise<void>((r) => w.once('exit', () => r()));
        w.postMessage({ close: true } satisfies ToWorker);
        const timer = setTimeout(() => void w.terminate(), 2000);
        await exited;
        clearTimeout(timer);
      })();
      return closing;
    },
  };
}

let workerFileSetting: string | null | undefined;

/** Tests point the email channel at a bundle of smtpWorker.ts (or `null`: the calling thread). */
export function configureSmtpThread(file: string | null | undefined): void {
  workerFileSetting = file;
}

/**
 * Where SMTP runs: `threads` worker threads running `file`, or `null` for the calling thread.
 * RETAIN_EMAIL_THREADS sets the count (0 = the calling thread; default 1: one thread takes about
 * 75,000 messages a minute, so more pay only with spare cores).
 */
export function smtpThreads(env: Record<string, string | undefined> = process.env): {
  file: string | null;
  threads: number;
} {
  const raw = env.RETAIN_EMAIL_THREADS;
  let threads = 1;
  if (raw !== undefined && raw.trim() !== '') {
    threads = Number(raw);
    if (!(Number.isInteger(threads) && threads >= 0 && threads <= 8))
      throw invalid(`RETAIN_EMAIL_THREADS must be a whole number from 0 to 8, got '${raw}'`, {
        field: 'RETAIN_EMAIL_THREADS',
      });
  }
  if (threads === 0) return { file: null, threads };
  if (workerFileSetting !== undefined) return { file: workerFileSetting, threads };
  if (!/\.c?js$/.test(import.meta.url)) return { file: null, threads };
  const file = join(packageRoot(), 'dist', 'bundle', 'smtp-worker.cjs');
  return { file: existsSync(file) ? file : null, threads };
}

/** Opens the transport: on worker threads when they are available, else on the calling thread. */
export function openSmtp(
  options: SmtpOptions,
  env: Record<string, string | undefined> = process.env,
): SmtpTransport {
  const { file, threads } = smtpThreads(env);
  return file ? threadSmtp(options, file, threads) : inlineSmtp(options);
}
