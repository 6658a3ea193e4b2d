import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { bundleForTest, REPO_ROOT } from './bundle.js';
import { startSmtpSink, type SmtpSink } from './smtpSink.js';

/**
 * Test helper of the kill -9 tests of sending: an SMTP sink that SIGKILLs the sending child from inside
 * its acceptance of message K (that message is dropped: the sender dies before the 250), and `run`,
 * which starts a child (a bundled script) with the email channel pointed at the sink and SMTP on its
 * worker thread, as the installed CLI sends. The child reports JSON on stdout lines `<word> <json>`.
 */
export async function sendCrashSink(): Promise<{
  sink: SmtpSink;
  run: (
    script: string,
    args: string[],
    killAt: number | null,
  ) => Promise<{ killed: boolean; reported: Record<string, unknown> }>;
}> {
  const worker = await bundleForTest(
    join(REPO_ROOT, 'src/modules/messaging/channels/smtpWorker.ts'),
    'smtp-worker',
  );
  const hook: { at: number | null; kill: () => void } = { at: null, kill: () => {} };
  const sink: SmtpSink = await startSmtpSink({
    beforeAccept: () => {
      if (hook.at !== null && sink.messages.length + 1 >= hook.at) {
        hook.kill();
        return 'drop';
      }
    },
  });
  const run = (script: string, args: string[], killAt: number | null) =>
    new Promise<{ killed: boolean; reported: Record<string, unknown> }>((resolve, reject) => {
      const child = spawn(process.execPath, [script, ...args], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: {
          ...process.env,
          SMTP_WORKER: worker,
          RETAIN_CHANNELS: JSON.stringify({
            email: { host: '127.0.0.1', port: sink.port, from: 'Shop <news@shop.test>', timeoutMs: 10_000 },
          }),
        },
      });
      let stderr = '';
      const reported: Record<string, unknown> = {};
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      createInterface({ input: child.stdout }).on('line', (line) => {
        const m = /^(\w+) (\{.*\})$/.exec(line);
        if (m) reported[m[1] as string] = JSON.parse(m[2] as string) as unknown;
      });
      hook.at = killAt === null ? null : sink.messages.length + killAt;
      hook.kill = () => child.kill('SIGKILL');
      child.on('error', reject);
      child.on('exit', (code, signal) => {
        hook.at = null;
        if (signal === 'SIGKILL') resolve({ killed: true, reported });
        else if (code === 0) resolve({ killed: false, reported });
        else reject(new Error(`child exited ${code}: ${stderr}`));
      });
    });
  return { sink, run };
}
