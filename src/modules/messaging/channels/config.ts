import { invalid } from '../../../shared/errors.js';
import { openConfig } from './configParse.js';
import { emailChannel } from './email.js';
import type { Channel, ChannelKind } from './port.js';
import { ChannelsConfig } from './schema.js';
import type { Env } from './secrets.js';
import { smsChannel } from './sms.js';
import { telegramChannel } from './telegram.js';

export { ChannelsConfig, EmailConfig, MessengerConfig, Secret, SmsConfig } from './schema.js';

/**
 * The channels' configuration: one JSON object (`RETAIN_CHANNELS`, or the store's settings) with an
 * optional entry per channel — `email` (SMTP), `sms` (an HTTP gateway), `messenger` (a Telegram bot).
 * docs/messaging-channels.md describes every field.
 */

/**
 * Parses the config from JSON text or a parsed value; `where` names its source in errors
 * (`RETAIN_CHANNELS`, `settings channels`), each issue names its JSON path.
 */
export function parseChannelConfig(json: unknown, where: string): ChannelsConfig {
  let value = json;
  if (typeof json === 'string') {
    try {
      value = JSON.parse(json);
    } catch (err) {
      throw invalid(`invalid channel config in ${where}: not JSON (${(err as Error).message})`);
    }
  }
  return openConfig(ChannelsConfig, value, null, where);
}

/**
 * Opens an adapter per configured channel (undefined for the rest). Secrets given as `{"env": NAME}`
 * are read from `env` now: an unset variable is an error naming the field. Close each with `close()`.
 */
export function openChannels(
  config: ChannelsConfig,
  env: Env = process.env,
): Record<ChannelKind, Channel | undefined> {
  const opened: Channel[] = [];
  try {
    const open = <T extends Channel>(c: T) => (opened.push(c), c);
    return {
      email: config.email && open(emailChannel(config.email, env)),
      sms: config.sms && open(smsChannel(config.sms, env)),
      messenger: config.messenger && open(telegramChannel(config.messenger, env)),
    };
  } catch (err) {
    for (const c of opened) void c.close();
    throw err;
  }
}
