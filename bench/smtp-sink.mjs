// A counting SMTP sink for benches (its own process, so it never shares an event loop with what is
// measured): accepts every message, drains the body, counts messages and distinct X-Retain-Key
// headers. Prints `port <n>` when listening; each line on stdin `count` is answered with
// `count <messages> <distinct keys> <bytes>`.
import { createInterface } from 'node:readline';
import { SMTPServer } from 'smtp-server';

let messages = 0;
let bytes = 0;
const keys = new Set();
const server = new SMTPServer({
  logger: false,
  disabledCommands: ['STARTTLS', 'AUTH'],
  authOptional: true,
  disableReverseLookup: true,
  onData(stream, _session, callback) {
    let head = '';
    stream.on('data', (chunk) => {
      bytes += chunk.length;
      if (head.length < 4096) head += chunk.toString('latin1');
    });
    stream.on('end', () => {
      messages++;
      const key = /\r?\nX-Retain-Key: ([^\r\n]+)/i.exec(head);
      if (key) keys.add(key[1]);
      callback(null, `queued as m${messages}`);
    });
  },
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`port ${server.server.address().port}\n`));
createInterface({ input: process.stdin }).on('line', (line) => {
  if (line.trim() === 'count') process.stdout.write(`count ${messages} ${keys.size} ${bytes}\n`);
  if (line.trim() === 'exit') server.close(() => process.exit(0));
});
