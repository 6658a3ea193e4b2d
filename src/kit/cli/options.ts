import type { Command } from 'commander';
import { Option } from 'commander';
import type { z } from 'zod';
import { fieldOf } from '../fields.js';

/** How one schema field appears on the command line when the defaults below do not fit. */
export interface OptionOverride {
  /** The value placeholder (`--horizon <n>`); default `value`. */
  arg?: string;
  /** Replaces the field's `.describe()` text. */
  description?: string;
  /** Whether commander requires the flag; default: the field has neither a default nor `.optional()`. */
  required?: boolean;
  /** Commander's default (shown in help); default: the schema's default, as text. */
  default?: string;
  /** A repeatable / space-separated list (`--exclude-sku <skus...>`). */
  variadic?: boolean;
  /** `--no-<flag>`: a boolean that defaults to true. */
  negate?: boolean;
}

const kebab = (s: string) => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/**
 * Declares a command's options from its input schema, in the schema's field order: `calibrationEnd`
 * becomes `--calibration-end <value>` described by the field's `.describe()` text, with the schema's
 * default shown in help; booleans become switches; a field without a default that is not optional is
 * a required option. `overrides` adjusts a field's flag (`false` leaves the field off the command line).
 * So a new field of the schema reaches both the CLI and the HTTP routes (which parse the same schema).
 */
export function optionsFrom(
  cmd: Command,
  schema: z.ZodObject,
  overrides: Readonly<Record<string, OptionOverride | false>> = {},
): Command {
  for (const [key, type] of Object.entries(schema.shape)) {
    const o = overrides[key];
    if (o === false) continue;
    const f = fieldOf(type as z.ZodType);
    const flag = kebab(key);
    const description = o?.description ?? f.description ?? '';
    const option =
      f.type === 'boolean'
        ? new Option(o?.negate ? `--no-${flag}` : `--${flag}`, description)
        : new Option(`--${flag} <${o?.arg ?? 'value'}${o?.variadic ? '...' : ''}>`, description);
    const fallback =
      f.type === 'boolean' || f.defaultValue === undefined ? undefined : String(f.defaultValue);
    const dflt = o?.default ?? fallback;
    if (dflt !== undefined) option.default(dflt);
    if (o?.required ?? (f.type !== 'boolean' && !f.optional && f.defaultValue === undefined))
      option.makeOptionMandatory();
    cmd.addOption(option);
  }
  return cmd;
}

/**
 * Adds options when a command group dispatches to one of its subcommands (`retain clv fit …`), so
 * `retain --help` does not load the schemas: `declare(sub)` may import them. The group's help lists
 * its commands as taking options all the same (`fit [options]`), as when they are declared at once.
 */
export function declareOnDispatch(group: Command, declare: (sub: Command) => Promise<void>): Command {
  group.configureHelp({
    ...group.configureHelp(),
    subcommandTerm: (c) =>
      [
        c.name(),
        ...(c.name() === 'help' ? [] : ['[options]']),
        ...c.registeredArguments.map((a) => (a.required ? `<${a.name()}>` : `[${a.name()}]`)),
      ].join(' '),
  });
  return group.hook('preSubcommand', async (_group, sub) => {
    await declare(sub);
  });
}
