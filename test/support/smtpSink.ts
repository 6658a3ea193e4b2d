import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer, type SMTPServerSession } from 'smtp-server';

/**
 * Test helper: an SMTP server on 127.0.0.1 (smtp-server) that keeps every message it accepts, parsed
 * (mailparser) with its headers and raw bytes, and can refuse, defer, delay or drop on cue.
 */

export interface SinkMessage {
  envelope: { from: string; to: string[] };
  /** The message as received (for DKIM checks). */
  raw: Buffer;
  parsed: ParsedMail;
  /** Header lines by lower-case name, as received (unfolded value after the colon). */
  header(name: string): string | undefined;
  /** The id in the `250 Message queued as <id>` reply (set when accepted). */
  queueId: string;
  sessionId: string;
}

export interface SmtpSinkOptions {
  /** Recipients answered `550 5.1.1` at RCPT TO (a hard bounce). */
  rejectRecipients?: Iterable<string>;
  /** Any other recipient is answered `451 4.3.0` at RCPT TO the first time it is seen. */
  deferOnce?: boolean;
  /**
   * Runs after the whole message arrived, before the 250: may delay (return a promise), answer `'drop'`
   * (the connection is destroyed, no reply: the client cannot tell whether it was taken), or throw an
   * Error with `responseCode` (that reply is sent instead).
   */
  beforeAccept?: (message: SinkMessage) => void | 'drop' | Promise<void | 'drop'>;
  /** Require AUTH PLAIN/LOGIN with these credentials. */
  auth?: { user: string; pass: string };
}

export interface SmtpSink {
  host: string;
  port: number;
  /** Accepted messages, in order of the 250. */
  messages: SinkMessage[];
  /** Messages received whole but dropped by `beforeAccept` (no reply). */
  dropped: SinkMessage[];
  /** RCPT TO answers other than 250: `{to, code}`. */
  refused: { to: string; code: number }[];
  /** Sessions opened so far, and the most open at once. */
  sessions: number;
  maxOpenSessions: number;
  /** Resolves once `n` messages were accepted (rejects after `timeoutMs`). */
  waitFor(n: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

function headerReader(raw: Buffer): (name: string) => string | undefined {
  const head = raw.toString('latin1').split(/\r?\n\r?\n/, 1)[0] ?? '';
  const fields = new Map<string, string>();
  for (const line of head.replace(/\r?\n[ \t]/g, ' ').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    if (!fields.has(name)) fields.set(name, line.slice(colon + 1).trim());
  }
  return (name) => fields.get(name.toLowerCase());
}

export async function startSmtpSink(options: SmtpSinkOptions = {}): Promise<SmtpSink> {
  const reject = new Set([...(options.rejectRecipients ?? [])].map((r) => r.toLowerCase()));
  const deferred = new Set<string>();
  const waiters: { n: number; resolve: () => void }[] = [];
  let open = 0;
  const sink: SmtpSink = {
    host: '127.0.0.1',
    port: 0,
    messages: [],
    dropped: [],
    refused: [],
    sessions: 0,
    maxOpenSessions: 0,
    waitFor(n, timeoutMs = 30_000) {
      if (sink.messages.length >= n) return Promise.resolve();
      return new Promise((resolve, rejectWait) => {
        const timer = setTimeout(
          () =>
            rejectWait(
              new Error(`smtp sink: ${sink.messages.length} of ${n} messages after ${timeoutMs} ms`),
            ),
          timeoutMs,
        );
        waiters.push({ n, resolve: () => (clearTimeout(timer), resolve()) });
      });
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };

  const socketOf = (session: SMTPServerSession): Socket | undefined => {
    for (const c of (server as unknown as { connections: Set<{ id: string; _socket?: Socket }> }).connections)
      if (c.id === session.id) return c._socket;
    return undefined;
  };

  const server: SMTPServer = new SMTPServer({
    logger: false,
    disableReverseLookup: true,
    disabledCommands: options.auth ? ['STARTTLS'] : ['STARTTLS', 'AUTH'],
    authOptional: !options.auth,
    allowInsecureAuth: true,
    closeTimeout: 100,
    onAuth(auth, _session, callback) {
      if (auth.username === options.auth?.user && auth.password === options.auth?.pass)
        return callback(null, { user: auth.username });
      const err = new Error('5.7.8 Authentication credentials invalid') as Error & { responseCode: number };
      err.responseCode = 535;
      callback(err);
    },
    onConnect(_session, callback) {
      sink.sessions++;
      open++;
      sink.maxOpenSessions = Math.max(sink.maxOpenSessions, open);
      callback();
    },
    onClose() {
      open--;
    },
    onRcptTo(address, _session, callback) {
      const to = address.address.toLowerCase();
      const refuse = (code: number, text: string) => {
        sink.refused.push({ to, code });
        const err = new Error(text) as Error & { responseCode: number };
        err.responseCode = code;
        callback(err);
      };
      if (reject.has(to)) return refuse(550, '5.1.1 <' + to + '>: Recipient address rejected: User unknown');
      if (options.deferOnce && !deferred.has(to)) {
        deferred.add(to);
        return refuse(451, '4.3.0 <' + to + '>: Temporary lookup failure, try again later');
      }
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        void (async () => {
          const raw = Buffer.concat(chunks);
          const message: SinkMessage = {
            envelope: {
              from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
              to: session.envelope.rcptTo.map((r) => r.address),
            },
            raw,
            parsed: await simpleParser(raw),
            header: headerReader(raw),
            queueId: randomBytes(6).toString('hex').toUpperCase(),
            sessionId: session.id,
          };
          try {
            if ((await options.beforeAccept?.(message)) === 'drop') {
              sink.dropped.push(message);
              socketOf(session)?.destroy();
              return;
            }
          } catch (err) {
            return callback(err as Error);
          }
          sink.messages.push(message);
          callback(null, `Message queued as ${message.queueId}`);
          for (const w of waiters.splice(0)) {
            if (sink.messages.length >= w.n) w.resolve();
            else waiters.push(w);
          }
        })();
      });
    },
  });
  await new Promise<void>((resolve, rejectListen) => {
    server.once('error', rejectListen);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  server.on('error', () => {});
  sink.port = (server.server.address() as { port: number }).port;
  return sink;
}
