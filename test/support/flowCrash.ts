import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { bundleForTest, REPO_ROOT as root } from './bundle.js';
import { bundleChildScript } from './crash.js';
import { startSmtpSink, type SmtpSink } from './smtpSink.js';

/**
 * Test helper of the flows' kill -9 test: a worker process built as `retain worker` builds its
 * background half (src/cli/background.ts) — the job runner with every module's job handlers and cron
 * schedules, the domain-event dispatcher with every module's subscribers, on one store — but on a fast
 * clock: `speed` × the wall clock from a given instant, so that a flow's minutes pass in seconds (the
 * schedules' every-minute `flows.advance` and `messaging.deliver` each second at 60×; the job lease is
 * scaled so that it still lasts a minute of wall time). SMTP runs on the adapter's worker thread, as the
 * installed CLI sends, to an SMTP sink in the test process. The child prints `ready <json>` once
 * running and `idle <json>` whenever every domain event is delivered to the flows' subscriber, no run is
 * in flight and no message is queued or being sent; it stops on SIGTERM like `retain worker`.
 */
const CHILD = `
import pino from 'pino';
import { openStore } from ${JSON.stringify(join(root, 'src/modules/store.ts'))};
import { JobQueue, JobRunner } from ${JSON.stringify(join(root, 'src/modules/jobs/service.ts'))};
import { jobHandlers, moduleSchedules, allSubscribers } from ${JSON.stringify(join(root, 'src/modules/registry.ts'))};
import { Dispatcher } from ${JSON.stringify(join(root, 'src/modules/outbox/dispatcher.ts'))};
import { configureSmtpThread } from ${JSON.stringify(join(root, 'src/modules/messaging/channels/smtpTransport.ts'))};
configureSmtpThread(process.env.SMTP_WORKER);
const [engine, target, schema, simStart, speed] = process.argv.slice(2);
const db = await openStore(engine === 'postgres' ? { databaseUrl: target, schema } : { db: target });
const realStart = Date.now();
const sim0 = new Date(simStart).getTime();
const clock = { now: () => new Date(sim0 + (Date.now() - realStart) * Number(speed)) };
const log = pino({ level: 'silent' });
const [handlers, schedules, subscribers] = await Promise.all([jobHandlers(), moduleSchedules(), allSubscribers()]);
const jobs = new JobQueue(db, clock);
const runner = new JobRunner({ db, queue: jobs, handlers, schedules, logger: log, concurrency: 2, clock, leaseMs: 60_000 * Number(speed) });
const dispatcher = new Dispatcher({ ctx: { db, clock, jobs, log }, subscribers });
runner.start();
dispatcher.start();
process.stdout.write('ready ' + JSON.stringify({ pid: process.pid, realStart, simStart: sim0 }) + '\\n');
let stopping = false;
const one = async (sql) => Number((await db.query(sql))[0].n);
const watch = (async () => {
  while (!stopping) {
    await new Promise((r) => setTimeout(r, 250));
    if (stopping) break;
    const r = {
      undelivered: await one("SELECT COALESCE(MAX(event_id), 0) - (SELECT last_event_id FROM event_subscriptions WHERE name = 'flows') AS n FROM domain_events"),
      active: await one("SELECT COUNT(*) AS n FROM flow_runs WHERE status = 'active'"),
      pending: await one("SELECT COUNT(*) AS n FROM message_sends WHERE status IN ('queued', 'sending')"),
      sim: clock.now().toISOString(),
    };
    if (r.undelivered === 0 && r.active === 0 && r.pending === 0) process.stdout.write('idle ' + JSON.stringify(r) + '\\n');
  }
})();
process.once('SIGTERM', () => {
  stopping = true;
  void Promise.all([runner.stop(), dispatcher.stop(), watch]).then(() => db.close()).then(() => process.exit(0));
});
`;

export interface FlowWorkerRun {
  /** How it ended: SIGKILLed (with the fast clock's instant then), or stopped when idle. */
  killed: boolean;
  /** The fast clock's instant when the process ended (the next one starts after it). */
  simEnd: Date;
  /** Real milliseconds from `ready` to the end. */
  ranMs: number;
}

export interface FlowCrashHarness {
  sink: SmtpSink;
  /**
   * Runs the worker on `args` (engine, target, schema) from `simStart`. `kill`: SIGKILL `afterMs` of
   * wall time after it is ready, or from inside the sink's acceptance of its `atMessage`-th message from
   * now (that message is dropped: the sender dies before the 250); either way at the latest when it is
   * idle. Without `kill` it is stopped (SIGTERM, exit 0) when idle.
   */
  run(
    args: readonly string[],
    simStart: Date,
    kill?: { afterMs: number } | { atMessage: number },
  ): Promise<FlowWorkerRun>;
  close(): Promise<void>;
}

export async function flowCrashHarness(speed: number): Promise<FlowCrashHarness> {
  const [script, smtpWorker] = await Promise.all([
    bundleChildScript(CHILD, 'flow-crash-worker'),
    bundleForTest(join(root, 'src/modules/messaging/channels/smtpWorker.ts'), 'smtp-worker'),
  ]);
  const hook: { at: number | null; kill: () => void } = { at: null, kill: () => {} };
  const sink: SmtpSink = await startSmtpSink({
    beforeAccept: () => {
      if (hook.at !== null && sink.messages.length + 1 >= hook.at) {
        hook.at = null;
        hook.kill();
        return 'drop';
      }
    },
  });
  const run: FlowCrashHarness['run'] = (args, simStart, kill) =>
    new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [script, ...args, simStart.toISOString(), String(speed)], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: {
          ...process.env,
          SMTP_WORKER: smtpWorker,
          RETAIN_CHANNELS: JSON.stringify({
            email: { host: '127.0.0.1', port: sink.port, from: 'Shop <news@shop.test>', timeoutMs: 10_000 },
          }),
        },
      });
      let stderr = '';
      let ready: { realStart: number; simStart: number } | null = null;
      let readyAt = Date.now();
      let endedAt: number | null = null;
      let timer: NodeJS.Timeout | undefined;
      const sigkill = () => {
        if (endedAt !== null) return;
        endedAt = Date.now();
        child.kill('SIGKILL');
      };
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      createInterface({ input: child.stdout }).on('line', (line) => {
        const m = /^(\w+) (\{.*\})$/.exec(line);
        if (!m) return;
        if (m[1] === 'ready') {
          ready = JSON.parse(m[2] as string) as { realStart: number; simStart: number };
          readyAt = Date.now();
          if (kill && 'afterMs' in kill) timer = setTimeout(sigkill, kill.afterMs);
          if (kill && 'atMessage' in kill) {
            hook.at = sink.messages.length + kill.atMessage;
            hook.kill = sigkill;
          }
        }
        if (m[1] === 'idle' && endedAt === null) {
          if (kill) sigkill();
          else {
            endedAt = Date.now();
            child.kill('SIGTERM');
          }
        }
      });
      child.on('error', reject);
      child.on('exit', (code, signal) => {
        clearTimeout(timer);
        hook.at = null;
        const end = endedAt ?? Date.now();
        const simEnd = new Date(
          ready ? ready.simStart + (end - ready.realStart) * speed : simStart.getTime(),
        );
        if (signal === 'SIGKILL') resolve({ killed: true, simEnd, ranMs: end - readyAt });
        else if (code === 0 && !kill) resolve({ killed: false, simEnd, ranMs: end - readyAt });
        else reject(new Error(`flow worker exited ${code ?? signal}: ${stderr}`));
      });
    });
  return { sink, run, close: () => sink.close() };
}
