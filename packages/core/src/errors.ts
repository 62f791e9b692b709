/**
 * Typed errors. Every failure a user can cause is a `ZipitError` subclass with a stable `code`,
 * a one-line message naming the file/node/space involved, and a `hint` with the fix when one is known.
 */
export interface ErrorContext {
  /** File the problem was found in. */
  file?: string;
  /** Graph node (name or op) the problem concerns. */
  node?: string;
  /** Merge point ("space") the problem concerns. */
  space?: string;
  /** What to do about it, when known. */
  hint?: string;
  cause?: unknown;
}

export class ZipitError extends Error {
  readonly code: string;
  readonly file?: string;
  readonly node?: string;
  readonly space?: string;
  readonly hint?: string;

  constructor(code: string, message: string, ctx: ErrorContext = {}) {
    super(formatMessage(message, ctx), ctx.cause === undefined ? undefined : { cause: ctx.cause });
    this.name = new.target.name;
    this.code = code;
    this.file = ctx.file;
    this.node = ctx.node;
    this.space = ctx.space;
    this.hint = ctx.hint;
  }
}

function formatMessage(message: string, ctx: ErrorContext): string {
  const where = [ctx.file, ctx.node && `node ${ctx.node}`, ctx.space && `space ${ctx.space}`].filter(Boolean).join(', ');
  const head = where ? `${where}: ${message}` : message;
  return ctx.hint ? `${head} (${ctx.hint})` : head;
}

/** A caller passed an argument outside its domain (unknown method, bad count, bad option). */
export class InvalidArgumentError extends ZipitError {
  constructor(message: string, ctx?: ErrorContext) {
    super('E_ARGUMENT', message, ctx);
  }
}

/** A file is not what it claims to be: corrupt, truncated, wrong format, unsupported header. */
export class FormatError extends ZipitError {
  constructor(message: string, ctx?: ErrorContext) {
    super('E_FORMAT', message, ctx);
  }
}

/** Shapes or sizes do not fit together. */
export class ShapeError extends ZipitError {
  constructor(message: string, ctx?: ErrorContext) {
    super('E_SHAPE', message, ctx);
  }
}

/** NaN/Inf or other non-finite numbers where finite ones are required. */
export class NumericError extends ZipitError {
  constructor(message: string, ctx?: ErrorContext) {
    super('E_NUMERIC', message, ctx);
  }
}

/** Something valid but outside what this tool supports (operator, opset, dtype, layout). */
export class UnsupportedError extends ZipitError {
  constructor(message: string, ctx?: ErrorContext) {
    super('E_UNSUPPORTED', message, ctx);
  }
}

/** A named thing (file, value, plugin, merge point) does not exist. */
export class NotFoundError extends ZipitError {
  constructor(message: string, ctx?: ErrorContext) {
    super('E_NOT_FOUND', message, ctx);
  }
}

/** Inputs that are individually valid do not belong together (different models, stale statistics). */
export class MismatchError extends ZipitError {
  constructor(message: string, ctx?: ErrorContext) {
    super('E_MISMATCH', message, ctx);
  }
}

/**
 * The same error naming `file`, for errors raised where the file was not known (e.g. by a
 * graph function); anything else is returned unchanged.
 */
export function attachFile(e: unknown, file: string): unknown {
  if (!(e instanceof ZipitError) || e.file || e.constructor === ZipitError) return e;
  const Kind = e.constructor as new (message: string, ctx: ErrorContext) => ZipitError;
  return new Kind(e.message, { file, cause: e });
}
