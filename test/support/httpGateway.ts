import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/**
 * Test helpers: HTTP providers on 127.0.0.1 that record every request and answer from a script — a fake
 * SMS gateway (deduplicating by Idempotency-Key) and a fake Telegram Bot API.
 */

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** The body parsed as JSON, or the parse error's message when it is not JSON. */
  json: unknown;
  jsonError: string | null;
}

/** One scripted answer. `drop`: destroy the connection without answering; `delayMs`: answer late. */
export interface ScriptedAnswer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  delayMs?: number;
  drop?: boolean;
}

export interface HttpGateway {
  /** `http://127.0.0.1:<port>` */
  url: string;
  requests: RecordedRequest[];
  /** Queues answers for the next requests, in order; after them the gateway answers as usual. */
  script(...answers: ScriptedAnswer[]): void;
  close(): Promise<void>;
}

type Decide = (req: RecordedRequest) => ScriptedAnswer;

function startGateway(decide: Decide): Promise<HttpGateway> {
  const scripted: ScriptedAnswer[] = [];
  const sockets = new Set<Socket>();
  const requests: RecordedRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let json: unknown = null;
      let jsonError: string | null = null;
      try {
        json = JSON.parse(body);
      } catch (err) {
        jsonError = (err as Error).message;
      }
      const recorded: RecordedRequest = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body,
        json,
        jsonError,
      };
      requests.push(recorded);
      const answer = scripted.shift() ?? decide(recorded);
      const reply = () => (answer.drop ? req.socket.destroy() : write(res, answer));
      if (answer.delayMs) setTimeout(reply, answer.delayMs);
      else reply();
    });
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      resolve({
        url: `http://127.0.0.1:${port}`,
        requests,
        script: (...answers) => void scripted.push(...answers),
        close: () =>
          new Promise<void>((done) => {
            for (const s of sockets) s.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}

function write(res: ServerResponse, a: ScriptedAnswer) {
  if (res.destroyed) return;
  const text = a.body === undefined ? '' : typeof a.body === 'string' ? a.body : JSON.stringify(a.body);
  res.writeHead(a.status, { 'content-type': 'application/json', ...(a.headers ?? {}) });
  res.end(text);
}

export interface SmsGateway extends HttpGateway {
  /** Messages the gateway took (one per distinct idempotency key): what the phones would receive. */
  delivered: { key: string | null; json: unknown }[];
  /** Requests answered from the dedup store (a key seen before). */
  deduplicated: number;
}

/**
 * A fake SMS gateway: `POST /send` answers 200 `{"id":"sms-<n>","status":"queued"}`. A request whose
 * Idempotency-Key the gateway took before gets that first answer again and sends nothing (scripted
 * answers — 429, 5xx, 4xx — take nothing and are not remembered). With `authorization` set, any other Authorization
 * header is answered 401.
 */
export async function startSmsGateway(
  options: { idempotencyHeader?: string; authorization?: string } = {},
): Promise<SmsGateway> {
  const header = (options.idempotencyHeader ?? 'Idempotency-Key').toLowerCase();
  const answered = new Map<string, ScriptedAnswer>();
  let n = 0;
  const delivered: SmsGateway['delivered'] = [];
  const base = await startGateway((req) => {
    if (options.authorization !== undefined && req.headers.authorization !== options.authorization)
      return { status: 401, body: { error: 'unauthorized' } };
    if (req.jsonError) return { status: 400, body: { error: `malformed JSON: ${req.jsonError}` } };
    const key = req.headers[header];
    const k = typeof key === 'string' ? key : null;
    const first = k === null ? undefined : answered.get(k);
    if (first) {
      gateway.deduplicated++;
      return first;
    }
    const answer = { status: 200, body: { id: `sms-${++n}`, status: 'queued' } };
    delivered.push({ key: k, json: req.json });
    if (k !== null) answered.set(k, answer);
    return answer;
  });
  const gateway: SmsGateway = Object.assign(base, { delivered, deduplicated: 0 });
  return gateway;
}

export interface BotApi extends HttpGateway {
  /** Messages the bot sent: `{chat_id, text, parse_mode}`. */
  sent: { chat_id: unknown; text: unknown; parse_mode?: unknown }[];
}

/**
 * A fake Telegram Bot API: `POST /bot<token>/sendMessage` answers like Telegram — `{"ok":true,"result":
 * {"message_id":n,…}}`; 403 "bot was blocked by the user" for `blockedChats`, 400 "chat not found" for
 * `missingChats`, 404 "Not Found" for another token.
 */
export async function startBotApi(options: {
  token: string;
  blockedChats?: string[];
  missingChats?: string[];
}): Promise<BotApi> {
  const sent: BotApi['sent'] = [];
  let n = 100;
  const fail = (code: number, description: string): ScriptedAnswer => ({
    status: code,
    body: { ok: false, error_code: code, description },
  });
  const base = await startGateway((req) => {
    if (req.path !== `/bot${options.token}/sendMessage`) return fail(404, 'Not Found');
    const m = req.json as { chat_id?: unknown; text?: unknown; parse_mode?: unknown } | null;
    if (!m || m.chat_id === undefined || m.chat_id === '') return fail(400, 'Bad Request: chat_id is empty');
    if (typeof m.text !== 'string' || m.text === '') return fail(400, 'Bad Request: message text is empty');
    const chat = String(m.chat_id);
    if (options.blockedChats?.includes(chat)) return fail(403, 'Forbidden: bot was blocked by the user');
    if (options.missingChats?.includes(chat)) return fail(400, 'Bad Request: chat not found');
    sent.push({ chat_id: m.chat_id, text: m.text, ...(m.parse_mode ? { parse_mode: m.parse_mode } : {}) });
    return {
      status: 200,
      body: { ok: true, result: { message_id: ++n, chat: { id: Number(chat) }, date: 0, text: m.text } },
    };
  });
  return Object.assign(base, { sent });
}
