import { z } from '@hono/zod-openapi';
import { EventInput } from '../imports/schema.js';

export const MAX_EVENTS_PER_BATCH = 1000;

/** The batch envelope; items are validated one by one (a bad item does not sink the batch). */
export const EventBatch = z.object({
  events: z
    .array(z.unknown())
    .min(1, 'send at least one event')
    .max(MAX_EVENTS_PER_BATCH, `at most ${MAX_EVENTS_PER_BATCH} events per request`),
});

/** For the OpenAPI document: what each item must look like (the import schema, reused). */
export const EventBatchDoc = z.object({ events: z.array(EventInput).max(MAX_EVENTS_PER_BATCH) });

export const IngestResult = z
  .object({
    received: z.number().int(),
    inserted: z.number().int().openapi({ description: 'events stored by this request' }),
    duplicates: z
      .number()
      .int()
      .openapi({ description: 'valid events whose event_id was already stored (or repeated in the batch)' }),
    rejected: z.array(
      z.object({
        index: z.number().int(),
        eventId: z.string().nullable(),
        issues: z.array(z.object({ path: z.string(), message: z.string() })),
      }),
    ),
    identity: z
      .object({
        linked: z
          .number()
          .int()
          .openapi({ description: 'anonymous ids linked to a customer by this batch (first link wins)' }),
        stitched: z
          .number()
          .int()
          .openapi({ description: 'stored events of those anonymous ids that joined their customer' }),
        conflicts: z.number().int().openapi({
          description:
            'events naming a customer for an anonymous id already linked to another one (not applied)',
        }),
        refused: z
          .array(
            z.object({
              eventId: z.string(),
              anonymousId: z.string(),
              customerId: z.string().openapi({ description: 'the customer the event named' }),
              linkedTo: z.string().openapi({ description: 'the customer the anonymous id stays linked to' }),
            }),
          )
          .openapi({ description: 'the first 100 conflicts' }),
      })
      .openapi({ description: 'identity stitching: events carrying both customer_id and anonymous_id' }),
  })
  .openapi('IngestResult');
export type IngestResult = z.infer<typeof IngestResult>;
