import type { Command } from 'commander';
import type { Migration } from '../storage/migrations/index.js';
import type { ModuleContext } from './context.js';
import type { Auth } from './http/auth.js';
import type { RetainApp, ServerDeps } from './http/context.js';
import type { JobHandler } from './context.js';
import type { ScheduleInput } from './schedule.js';
import type { Subscriber } from './events.js';
import type { CustomerHooks } from './customerHooks.js';
import type { TimelineSource } from './timeline.js';

/** What the CLI hands a module's commands: a context on the store named by the global options. */
export interface CliRuntime {
  /** Opens the store (`--db` / `--database-url`), runs `fn` with a context on it, always closes it. */
  withContext<T>(cmd: Command, fn: (ctx: ModuleContext) => Promise<T>): Promise<T>;
}

/** Mounts a module's HTTP routes. */
export type RegisterRoutes = (app: RetainApp, deps: ServerDeps, auth: Auth) => void;

/**
 * One domain module, declared in its `module.ts` and listed once in `src/modules/registry.ts`. The
 * server mounts `routes`, the CLI registers `commands`, the job runner (`retain serve`, `retain worker`)
 * runs `jobs` and enqueues `schedules`, and opening a store applies `migrations`. Routes and job handlers are loaded on first
 * use so that a CLI command does not load every module's HTTP layer.
 */
export interface RetainModule {
  /** The folder name under src/modules. */
  readonly name: string;
  /** Schema changes this module owns; versions are global and unique across modules. */
  readonly migrations?: readonly Migration[];
  /** Registers the module's `retain …` commands (they load their services lazily). */
  readonly commands?: (program: Command, cli: CliRuntime) => void;
  readonly routes?: () => Promise<RegisterRoutes>;
  readonly jobs?: () => Promise<Record<string, JobHandler>>;
  /**
   * Cron schedules: the job runner enqueues one job per slot (exactly once across workers and
   * restarts; see src/kit/schedule.ts for the catch-up policy). Plain data, validated when a runner
   * starts; names are unique across modules.
   */
  readonly schedules?: readonly ScheduleInput[];
  /** Domain-event subscribers (delivered by the outbox dispatcher; see src/kit/events.ts). */
  readonly subscribers?: () => Promise<Subscriber[]>;
  /**
   * What erasing or merging customers does to this module's customer-owned tables (run by the
   * customers service inside its transaction; see src/kit/customerHooks.ts).
   */
  readonly customerHooks?: CustomerHooks;
  /**
   * This module's entries on a customer's timeline (`GET /v1/customers/{id}/timeline`): the kinds it
   * gives and one repository function answering them (see src/kit/timeline.ts).
   */
  readonly timeline?: TimelineSource;
}
