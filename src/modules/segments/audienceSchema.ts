import { z } from '@hono/zod-openapi';
import { AsOf } from './schema.js';

/** Audience exports (docs/segments.md#audiences): inputs and outputs. */

export const ExportKind = z.enum(['hashed', 'plain']);
export type ExportKind = z.infer<typeof ExportKind>;

/** `retain segments export <name>`, `POST /v1/segments/{name}/exports`. */
export const AudienceExportInput = z
  .object({
    kind: ExportKind.default('hashed').openapi({
      description:
        'hashed: SHA-256 of email and phone of the members with ads consent granted (ad platforms); plain: chosen columns of every member (the shop’s own use)',
    }),
    columns: z
      .union([z.string(), z.array(z.string())])
      .optional()
      .openapi({
        description:
          'plain only: the columns, a list or comma-separated (default id,email,first_name,last_name,country,orders,revenue_minor,last_order_at,rfm_segment,clv_minor)',
        example: 'id,email,first_name,country,orders,revenue_minor,rfm_segment,clv_minor',
      }),
    changes: z.boolean().default(false).openapi({
      description:
        'only the customers added and removed since the previous export of this segment and kind (a change column first)',
    }),
    asOf: AsOf,
  })
  .strict()
  .openapi('AudienceExportInput');
export type AudienceExportInput = z.input<typeof AudienceExportInput>;

/** The route's body: the input, and whether to answer the CSV itself or JSON holding it. */
export const AudienceExportRequest = AudienceExportInput.extend({
  format: z
    .enum(['csv', 'json'])
    .default('csv')
    .openapi({ description: 'csv: the file (text/csv); json: the export record, counts and the CSV' }),
}).openapi('AudienceExportRequest');

export const AudienceExport = z
  .object({
    id: z.number().int(),
    segment: z.string(),
    kind: ExportKind,
    columns: z.array(z.string()).nullable(),
    asOf: z.string().openapi({ description: 'the instant the segment was evaluated at' }),
    createdAt: z.string(),
    createdBy: z.string().nullable(),
    members: z.number().int().openapi({ description: 'members of the segment at asOf' }),
    rows: z.number().int().openapi({ description: 'customers in the export (its member set)' }),
    previousExportId: z.number().int().nullable(),
    added: z.number().int().nullable().openapi({ description: 'customers not in the previous export' }),
    removed: z
      .number()
      .int()
      .nullable()
      .openapi({ description: 'customers of the previous export not in this one' }),
  })
  .openapi('AudienceExport');
export type AudienceExport = z.infer<typeof AudienceExport>;

export const AudienceExportResult = z
  .object({
    export: AudienceExport,
    /** Data lines in the CSV (without the header). */
    csvRows: z.number().int(),
    skipped: z
      .object({
        noConsent: z.number().int().openapi({ description: 'members whose ads consent is not granted' }),
        noAddress: z
          .number()
          .int()
          .openapi({ description: 'consented members with neither a usable email nor an E.164 phone' }),
        unusablePhones: z
          .number()
          .int()
          .openapi({ description: 'phones left out: not in international form (+ and 8–15 digits)' }),
      })
      .nullable(),
    changes: z
      .object({
        previousExportId: z.number().int().nullable(),
        added: z.number().int(),
        removed: z.number().int(),
        removedListed: z.number().int().openapi({ description: 'removed customers in the file' }),
        removedUnlisted: z.number().int().openapi({
          description: 'removed customers no longer known (erased, merged, or without an address now)',
        }),
      })
      .openapi({ description: 'against the previous export of this segment and kind (none: all added)' }),
    csv: z.string(),
  })
  .openapi('AudienceExportResult');
export type AudienceExportResult = z.infer<typeof AudienceExportResult>;
