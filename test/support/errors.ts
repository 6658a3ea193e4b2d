import { expect } from 'vitest';
import { AppError } from '../../src/shared/errors.js';

/** Test helper: the field an input error names (`AppError.where.field`); fails when `fn` does not throw. */
export function errorField(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(AppError);
    return (e as AppError).where?.field;
  }
  throw new Error('did not throw');
}
