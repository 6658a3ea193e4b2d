import type { ModuleContext } from '../../kit/context.js';
import { openChannels } from '../messaging/channels/config.js';
import { channelConfig } from '../messaging/service.js';
import { getStore } from '../settings/service.js';
import { overdueToAlert, recordAlert, setAlertOutcome } from './repository.js';

export const OVERDUE_JOB = 'tasks.overdue';

const TEXT = {
  en: {
    subject: (n: string) => `Overdue: ${n}`,
    body: (t: { title: string; customer: string; due: string; link: string | null }) =>
      `This task is past its due time (${t.due}):\n\n${t.title}\nCustomer: ${t.customer}\n${t.link ? `\n${t.link}\n` : ''}`,
  },
  uk: {
    subject: (n: string) => `Прострочено: ${n}`,
    body: (t: { title: string; customer: string; due: string; link: string | null }) =>
      `Термін цього завдання минув (${t.due}):\n\n${t.title}\nКлієнт: ${t.customer}\n${t.link ? `\n${t.link}\n` : ''}`,
  },
  ru: {
    subject: (n: string) => `Просрочено: ${n}`,
    body: (t: { title: string; customer: string; due: string; link: string | null }) =>
      `Срок этой задачи истёк (${t.due}):\n\n${t.title}\nКлиент: ${t.customer}\n${t.link ? `\n${t.link}\n` : ''}`,
  },
} as const;

/**
 * Emails each assignee of an open or in-progress task past its due time, once per task and due time
 * (`task_alerts`, inserted first: a crash between the insert and the email loses that alert rather than
 * sending it twice), in the store's language, the due time in the store's time zone. Run every 15
 * minutes (`tasks.overdue`); `retain tasks alert-overdue` runs it now. Without an email channel it
 * does nothing and says so.
 */
export async function alertOverdue(
  ctx: ModuleContext,
): Promise<{ alerted: number; failed: number; skipped: string | null }> {
  const config = await channelConfig(ctx);
  if (!config.email) return { alerted: 0, failed: 0, skipped: 'no email channel is configured' };
  const now = ctx.clock.now();
  const due = await overdueToAlert(ctx.db, now);
  if (due.length === 0) return { alerted: 0, failed: 0, skipped: null };
  const store = await getStore(ctx);
  const lang = store.locale === 'uk' || store.locale === 'ru' ? store.locale : 'en';
  const fmt = new Intl.DateTimeFormat(lang === 'en' ? 'en-GB' : lang, {
    dateStyle: 'medium',
    timeStyle: 'short',
    timeZone: store.timeZone,
  });
  const channels = openChannels(config);
  let alerted = 0;
  let failed = 0;
  try {
    for (const t of due) {
      const claimed = await ctx.db.transaction((tx) =>
        recordAlert(tx, {
          taskId: t.task_id,
          customerId: t.customer_id,
          dueAt: t.due_at,
          assignee: t.assignee,
          now,
        }),
      );
      if (!claimed) continue;
      const text = TEXT[lang];
      const r = await channels.email!.send({
        key: `task-alert:${t.task_id}:${t.due_at.toISOString()}`,
        to: t.assignee,
        subject: text.subject(t.title),
        text: text.body({
          title: t.title,
          customer: [t.external_id, t.name].filter(Boolean).join(' — '),
          due: `${fmt.format(t.due_at)} (${store.timeZone})`,
          link: null,
        }),
      });
      await ctx.db.transaction((tx) =>
        setAlertOutcome(tx, t.task_id, t.due_at, r.status === 'sent' ? 'sent' : `${r.status}: ${r.reason}`),
      );
      if (r.status === 'sent') alerted++;
      else failed++;
    }
  } finally {
    await Promise.all(Object.values(channels).map((c) => c?.close()));
  }
  return { alerted, failed, skipped: null };
}
