/**
 * The email channel's SMTP thread (see smtpTransport.ts): one nodemailer pooled transport, built from
 * the options the channel passes, sends each posted message and answers with the server's reply or the
 * error's fields. Bundled as dist/bundle/smtp-worker.cjs.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { inlineSmtp, toWire, type FromWorker, type SmtpOptions, type ToWorker } from './smtpTransport.js';

const port = parentPort!;
const transport = inlineSmtp(workerData as SmtpOptions);
const post = (m: FromWorker) => port.postMessage(m);

port.on('message', (m: ToWorker) => {
  if ('close' in m) {
    void transport.close().then(() => {
      post({ closed: true });
      port.close();
    });
    return;
  }
  transport.send(m.mail).then(
    (response) => post({ id: m.id, response }),
    (err: unknown) => post({ id: m.id, error: toWire(err) }),
  );
});
