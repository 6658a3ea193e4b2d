import type { ModuleContext } from '../../kit/context.js';
import { AppError } from '../../shared/errors.js';
import { CONSENT_CHANNELS, type ConsentChannel } from '../customers/schema.js';
import { applyConsent } from '../customers/service.js';
import * as consentRepo from './consentRepository.js';
import { customerOfPreferencesToken, linkSecretOf, preferencesToken, publicBase } from './links.js';
import { getPolicy } from './service.js';

/**
 * The preference page (issue 21): a signed per-customer link (`/p/<token>`, the `preferences_url` of
 * every message) where the contact turns each channel — email, SMS, messenger, ads — on or off. The
 * token is the credential (no session, no cookie), so a cross-site form cannot post without knowing it;
 * docs/messaging.md#the-preference-page says what else guards it.
 */

export const PREFERENCES_SOURCE = 'preference page';

/** The link for one customer (agents: `GET /v1/customers/{id}/preferences-link`, `retain consent link`). */
export async function preferencesLink(ctx: ModuleContext, { id }: { id: string }) {
  const contact = await consentRepo.contactByExternalId(ctx.db, id);
  if (!contact || contact.erased_at)
    throw new AppError('not_found', `no customer with id ${id}`, { where: { field: 'id' } });
  const base = publicBase((await getPolicy(ctx)).publicUrl);
  if (!base)
    throw new AppError(
      'validation',
      'the preference link needs the messaging policy publicUrl (where contacts reach retain serve)',
      { where: { field: 'publicUrl' } },
    );
  return {
    customer: id,
    url: `${base}/p/${preferencesToken(await linkSecretOf(ctx), contact.customer_id)}`,
  };
}

const gone = () => new AppError('not_found', 'this link is not valid');

/** The contact of a preference token with each channel's consent now. Forged or erased: not found. */
export async function preferencesInfo(ctx: ModuleContext, { token }: { token: string }) {
  const customerId = customerOfPreferencesToken(await linkSecretOf(ctx), token);
  if (customerId === null) throw gone();
  const contact = await consentRepo.contactById(ctx.db, customerId);
  if (!contact || contact.erased_at) throw gone();
  const now = await consentRepo.consentsOf(ctx.db, customerId);
  const channels = Object.fromEntries(CONSENT_CHANNELS.map((c) => [c, now.get(c) ?? null])) as Record<
    ConsentChannel,
    string | null
  >;
  return { contact, channels, locale: contact.locale };
}

/**
 * Saves the form: a channel ticked becomes `granted`, a channel not ticked that was granted becomes
 * `unsubscribed`; the others stay as they are (a `denied` or never-asked channel left unticked is not
 * a new decision). One transaction, one ledger entry per channel that changed, with the IP, user agent
 * and the form's wording as proof.
 */
export async function savePreferences(
  ctx: ModuleContext,
  {
    token,
    on,
    ip,
    userAgent,
    formText,
  }: {
    token: string;
    on: ReadonlySet<string>;
    ip?: string | undefined;
    userAgent?: string | undefined;
    formText: string;
  },
) {
  const info = await preferencesInfo(ctx, { token });
  for (const c of on)
    if (!(CONSENT_CHANNELS as readonly string[]).includes(c))
      throw new AppError('validation', `unknown channel '${c}' in the form`, { where: { field: c } });
  const now = ctx.clock.now();
  const changes = CONSENT_CHANNELS.flatMap(
    (c): { channel: ConsentChannel; status: 'granted' | 'unsubscribed' }[] => {
      const was = info.channels[c];
      if (on.has(c) && was !== 'granted') return [{ channel: c, status: 'granted' as const }];
      if (!on.has(c) && was === 'granted') return [{ channel: c, status: 'unsubscribed' as const }];
      return [];
    },
  );
  if (changes.length > 0)
    await ctx.db.transaction(async (tx) => {
      for (const ch of changes)
        await applyConsent(
          tx,
          ctx.db.dialect,
          { customerId: info.contact.customer_id, externalId: info.contact.external_id },
          ch.channel,
          {
            status: ch.status,
            source: PREFERENCES_SOURCE,
            proof: {
              ...(ip ? { ip: ip.slice(0, 64) } : {}),
              ...(userAgent ? { userAgent: userAgent.slice(0, 1000) } : {}),
              formText: formText.slice(0, 5000),
            },
          },
          now,
        );
    });
  const channels = { ...info.channels };
  for (const ch of changes) channels[ch.channel] = ch.status;
  return { ...info, channels, changed: changes };
}
