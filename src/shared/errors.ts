/** Where an error happened: a file and line for imports, a field for bodies and options. */
export interface ErrorLocation {
  file?: string;
  line?: number;
  /** 1-based column within `line` (template sources: where a Liquid error starts). */
  column?: number;
  field?: string;
}

export type AppErrorCode =
  | 'validation'
  | 'not_found'
  | 'conflict'
  | 'unauthorized'
  | 'forbidden'
  | 'rate_limited'
  | 'payload_too_large'
  | 'unavailable'
  | 'internal';

/** The one code → HTTP status table (used by the server and by tests). */
export const HTTP_STATUS: Record<AppErrorCode, number> = {
  validation: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  rate_limited: 429,
  internal: 500,
  unavailable: 503,
};

/** The single error type of Retain: a code, a message saying what was expected, and where. */
export class AppError extends Error {
  readonly code: AppErrorCode;
  readonly where: ErrorLocation | undefined;
  readonly details: unknown;

  constructor(
    code: AppErrorCode,
    message: string,
    opts: { where?: ErrorLocation; details?: unknown; cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'AppError';
    this.code = code;
    this.where = opts.where;
    this.details = opts.details;
  }

  /** One line for a terminal: `file:line field: message`. */
  toLine(): string {
    const w = this.where;
    const place = w
      ? [w.file && (w.line !== undefined ? `${w.file}:${w.line}` : w.file), w.field && `field ${w.field}`]
          .filter(Boolean)
          .join(' ')
      : '';
    return place ? `${place}: ${this.message}` : this.message;
  }
}

/** Shorthand for the most common failure: input that does not match what was expected. */
export function invalid(message: string, where?: ErrorLocation, details?: unknown): AppError {
  return new AppError('validation', message, { where, details });
}
