/**
 * The email channel's SMTP thread (see smtpTransport.ts): one nodemailer pooled transport, built from
 * the options the channel passes, sends each posted message and answers with the server's reply or the
 * error's fields. A message posted with `hold` asks the main thread (`ready`) before the end of DATA and
 * waits for its `go` or `stop`. Bundled as dist/bundle/smtp-worker.cjs.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { inlineSmtp, toWire, type FromWorker, type SmtpOptions, type ToWorker } from './smtpTransport.js';

const port = parentPort!;
const transport = inlineSmtp(workerData as SmtpOptions);
const post = (m: FromWorker) => port.postMessage(m);

/** Messages held before the end of DATA, waiting for the main thread's `go` or `stop`. */
const held = new Map<number, { go: () => void; stop: (e: Error) => void }>();

port.on('message', (m: ToWorker) => {
  if ('go' in m) {
    held.get(m.id)?.go();
    held.delete(m.id);
    return;
  }
  if ('stop' in m) {
    held.get(m.id)?.stop(new Error(m.stop));
    held.delete(m.id);
    return;
  }
  if ('close' in m) {
    void transport.close().then(() => {
      post({ closed: true });
      port.close();
    });
    return;
  }
  const gate = m.hold
    ? () =>
        new Promise<void>((go, stop) => {
          held.set(m.id, { go, stop });
          post({ id: m.id, ready: true });
        })
    : undefined;
  transport.send(m.mail, gate).then(
    (response) => post({ id: m.id, response }),
    (err: unknown) => post({ id: m.id, error: toWire(err) }),
  );
});
