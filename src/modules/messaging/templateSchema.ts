/**
 * Schemas of message templates (issue 21): the source an operator writes (`TemplateSource`), the
 * compiled form the send path stores (`CompiledTemplate`, plain JSON) and the variables it renders with
 * (`TemplateVars`). The engine is templates.ts; the format is described in docs/messaging.md#templates.
 */
import { z } from '@hono/zod-openapi';
import type { ZodError } from 'zod';
import { issuesError, type Issue } from '../../kit/http/errors.js';

export const TEMPLATE_CHANNELS = ['email', 'sms', 'messenger'] as const;
export const TEMPLATE_KINDS = ['marketing', 'transactional'] as const;

/** Largest source part accepted (an MJML body); subjects and texts have their own, smaller limits. */
export const MAX_BODY_CHARS = 200_000;
export const MAX_TEXT_CHARS = 50_000;
export const MAX_SUBJECT_CHARS = 500;
export const MAX_VARIANTS = 50;

/** A language (`uk`, `ru`, `en`, `pl`), optionally with a region (`pt-BR`, `es-419`). */
const LOCALE = /^[a-z]{2,3}(?:-(?:[A-Z]{2}|\d{3}))?$/;

export const TemplateLocale = z
  .string()
  .refine((s) => LOCALE.test(s) && canonical(s) === s, {
    message:
      "must be a BCP-47 language tag such as 'uk', 'ru', 'en' or 'pt-BR' (lower-case language, upper-case region)",
  })
  .describe("BCP-47 language tag: 'uk', 'ru', 'en', 'pl', 'pt-BR'");

function canonical(tag: string): string | null {
  try {
    return Intl.getCanonicalLocales(tag)[0] ?? null;
  } catch {
    return null;
  }
}

export const TemplateVariant = z
  .object({
    locale: TemplateLocale,
    subject: z
      .string()
      .max(MAX_SUBJECT_CHARS)
      .optional()
      .describe('Email only (required there): the subject line, Liquid text.'),
    body: z
      .string()
      .min(1, 'must not be empty')
      .max(MAX_BODY_CHARS)
      .describe('Email: an MJML document (<mjml>…</mjml>) with Liquid; SMS and messenger: Liquid text.'),
    text: z
      .string()
      .max(MAX_TEXT_CHARS)
      .optional()
      .describe('Email only: the plain-text part, Liquid text; derived from the HTML when absent.'),
  })
  .strict()
  .openapi('TemplateVariant');

export const TemplateSource = z
  .object({
    name: z.string().trim().min(1, 'must not be empty').max(200),
    channel: z.enum(TEMPLATE_CHANNELS),
    kind: z.enum(TEMPLATE_KINDS),
    variants: z.array(TemplateVariant).min(1, 'needs at least one variant').max(MAX_VARIANTS),
  })
  .strict()
  .superRefine((t, ctx) => {
    const seen = new Map<string, number>();
    t.variants.forEach((v, i) => {
      const key = v.locale.toLowerCase();
      const first = seen.get(key);
      if (first !== undefined)
        ctx.addIssue({
          code: 'custom',
          path: ['variants', i, 'locale'],
          message: `'${v.locale}' is already the locale of variants[${first}]; locales must be unique`,
        });
      else seen.set(key, i);
      if (t.channel === 'email') {
        if (v.subject === undefined || v.subject.trim() === '')
          ctx.addIssue({
            code: 'custom',
            path: ['variants', i, 'subject'],
            message: 'is required for email',
          });
      } else {
        for (const part of ['subject', 'text'] as const)
          if (v[part] !== undefined)
            ctx.addIssue({
              code: 'custom',
              path: ['variants', i, part],
              message: `is for email only; a ${t.channel} message is its body`,
            });
      }
    });
  })
  .openapi('TemplateSource');
export type TemplateSource = z.infer<typeof TemplateSource>;
export type TemplateVariant = z.infer<typeof TemplateVariant>;
export type TemplateChannel = (typeof TEMPLATE_CHANNELS)[number];

/** One variant as compiled: Liquid text throughout, ready to render per recipient. */
export const CompiledVariant = z
  .object({
    locale: z.string(),
    /** Email: the subject's Liquid text. */
    subject: z.string().nullable(),
    /** Email: the HTML MJML compiled once, its Liquid tags kept (rendered with HTML escaping). */
    html: z.string().nullable(),
    /**
     * The plain text's Liquid: the SMS/messenger body, the email's `text`, or the text derived from the
     * HTML at compile time (`textFrom: 'derived'`). Null when it must be derived from each rendered HTML
     * instead (`textFrom: 'render'`: the HTML has Liquid tags only in places the text conversion drops).
     */
    text: z.string().nullable(),
    textFrom: z.enum(['source', 'derived', 'render']),
    /**
     * Where the Liquid tokens of `html` and of a derived `text` came from in the body: flat triples
     * `[offset in the compiled part, source line, source column]`, in offset order — so a render error
     * names the line the author wrote, not a line of MJML's output.
     */
    htmlMap: z.array(z.number().int()),
    textMap: z.array(z.number().int()),
  })
  .strict();
export type CompiledVariant = z.infer<typeof CompiledVariant>;

export const CompiledTemplate = z
  .object({
    format: z.literal(1),
    name: z.string(),
    channel: z.enum(TEMPLATE_CHANNELS),
    kind: z.enum(TEMPLATE_KINDS),
    /** SHA-256 of the compiled parts: the key of the parsed-template cache (the same after a JSON round trip). */
    key: z.string().regex(/^[0-9a-f]{64}$/),
    variants: z.array(CompiledVariant).min(1),
  })
  .strict()
  .openapi('CompiledTemplate');
export type CompiledTemplate = z.infer<typeof CompiledTemplate>;

/**
 * The variables the send path passes to every template (documented in docs/messaging.md#templates).
 * Extra keys are allowed (a transactional message adds its order, say); unknown ones render empty.
 */
export const TemplateVars = z.looseObject({
  customer: z
    .looseObject({
      first_name: z.string().nullable().optional(),
      last_name: z.string().nullable().optional(),
      email: z.string().nullable().optional(),
      phone: z.string().nullable().optional(),
      locale: z.string().nullable().optional(),
      external_id: z.string().nullable().optional(),
    })
    .optional(),
  store: z
    .looseObject({
      name: z.string().nullable().optional(),
      /** ISO 4217: the `money` filter's currency when none is given. */
      currency: z.string().nullable().optional(),
      /** IANA zone: the `date_tz` filter's zone when none is given (UTC when absent). */
      time_zone: z.string().nullable().optional(),
    })
    .optional(),
  unsubscribe_url: z.string().optional(),
  preferences_url: z.string().optional(),
  discount_code: z.string().nullable().optional(),
  recommendations: z.array(z.looseObject({ sku: z.string(), title: z.string().nullable() })).optional(),
  points: z.number().nullable().optional(),
  tier: z.string().nullable().optional(),
});
export type TemplateVars = z.infer<typeof TemplateVars>;

/** A zod path as a JSON path: `['variants', 1, 'locale']` → `variants[1].locale`. */
export function jsonPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out ? `.${String(p)}` : String(p);
  }
  return out;
}

function templateIssues(error: ZodError): Issue[] {
  return error.issues.map((i) => ({
    path: jsonPath(i.path),
    message: i.message === 'Invalid input: expected string, received undefined' ? 'is required' : i.message,
  }));
}

/**
 * Parses a template source; a bad one is an `AppError('validation')` naming the first JSON path
 * (`invalid template: variants[1].locale: …`), every issue in `details.issues`.
 */
export function parseTemplateSource(raw: unknown): TemplateSource {
  const r = TemplateSource.safeParse(raw);
  if (!r.success) throw issuesError(templateIssues(r.error), 'template');
  return r.data;
}

/** Parses a stored compiled template (e.g. read back from the database). */
export function parseCompiledTemplate(raw: unknown): CompiledTemplate {
  const r = CompiledTemplate.safeParse(raw);
  if (!r.success) throw issuesError(templateIssues(r.error), 'compiled template');
  return r.data;
}
