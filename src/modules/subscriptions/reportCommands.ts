import type { Command } from 'commander';
import type { CliRuntime } from '../../kit/module.js';

/** `retain subscriptions report …` (docs/subscriptions.md#reports). */
export function registerSubscriptionReportCommands(_subscriptions: Command, _cli: CliRuntime): void {}
