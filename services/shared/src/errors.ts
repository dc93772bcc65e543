import * as grpc from '@grpc/grpc-js';

export interface GrpcErrorOptions {
  /** What led to it (kept for the log, never sent). */
  cause?: unknown;
  /**
   * Whether `message` may reach the caller (default true: our own messages are written for the caller). When
   * false the caller gets the code with a generic message and the handler logs this error as unexpected.
   */
  exposed?: boolean;
}

/** An error that means something to the caller: sent as this gRPC status and message. */
export class GrpcError extends Error {
  readonly exposed: boolean;

  constructor(
    readonly code: grpc.status,
    message: string,
    options: GrpcErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'GrpcError';
    this.exposed = options.exposed ?? true;
  }
}

export const invalidArgument = (message: string) => new GrpcError(grpc.status.INVALID_ARGUMENT, message);
export const notFound = (message: string) => new GrpcError(grpc.status.NOT_FOUND, message);
export const alreadyExists = (message: string) => new GrpcError(grpc.status.ALREADY_EXISTS, message);
export const failedPrecondition = (message: string) => new GrpcError(grpc.status.FAILED_PRECONDITION, message);
export const resourceExhausted = (message: string) => new GrpcError(grpc.status.RESOURCE_EXHAUSTED, message);
export const unavailable = (message: string) => new GrpcError(grpc.status.UNAVAILABLE, message);
export const deadlineExceeded = (message: string) => new GrpcError(grpc.status.DEADLINE_EXCEEDED, message);
export const cancelled = (message: string) => new GrpcError(grpc.status.CANCELLED, message);
export const aborted = (message: string) => new GrpcError(grpc.status.ABORTED, message);
export const internal = (message: string) => new GrpcError(grpc.status.INTERNAL, message);
export const dataLoss = (message: string) => new GrpcError(grpc.status.DATA_LOSS, message);
/** An INTERNAL whose text goes only to the log (a runtime's message: node names, file paths); the caller sees 'internal error'. */
export const hiddenInternal = (message: string, cause?: unknown) => new GrpcError(grpc.status.INTERNAL, message, { cause, exposed: false });

/**
 * The longest status message sent, in UTF-8 bytes. A gRPC status travels in an HTTP/2 trailer: one over the
 * peer's header-list limit (grpc-js: ~16 KiB–64 KiB) is never delivered and stalls the whole connection until
 * the caller's deadline, so every message is cut to this, whatever it quotes.
 */
export const MAX_STATUS_MESSAGE_BYTES = 1024;

/** How much of a caller's value a message quotes, in characters. */
export const MAX_QUOTED_CHARS = 64;

/**
 * A caller's value (a name, a path, a label) for an error message: JSON-quoted, and cut to its first
 * MAX_QUOTED_CHARS characters with its full length noted, so a 100 kB name makes a short message.
 */
export function quote(value: string): string {
  if (value.length <= MAX_QUOTED_CHARS) return JSON.stringify(value);
  return `${JSON.stringify(value.slice(0, MAX_QUOTED_CHARS))}… (${value.length} characters)`;
}

/** `message` cut to MAX_STATUS_MESSAGE_BYTES of UTF-8 (on a character boundary), marked when cut. */
export function boundStatusMessage(message: string): string {
  if (message.length * 3 <= MAX_STATUS_MESSAGE_BYTES || Buffer.byteLength(message) <= MAX_STATUS_MESSAGE_BYTES) return message;
  const marker = '… (message cut)';
  let cut = Buffer.from(message)
    .subarray(0, MAX_STATUS_MESSAGE_BYTES - Buffer.byteLength(marker))
    .toString('utf8');
  // A multi-byte character split at the cut decodes as U+FFFD: drop it.
  if (cut.endsWith('\uFFFD')) cut = cut.slice(0, -1);
  return cut + marker;
}

/** A status error received from another gRPC service (grpc-js ServiceError). */
export function isServiceError(error: unknown): error is grpc.ServiceError {
  return error instanceof Error && typeof (error as Partial<grpc.ServiceError>).code === 'number' && 'metadata' in error;
}

/** Whether `error` carries gRPC status `code` (ours or a downstream one). */
export function hasStatus(error: unknown, code: grpc.status): boolean {
  return (error instanceof GrpcError || isServiceError(error)) && error.code === code;
}

/**
 * Downstream codes whose message is written for whoever made the call (the input, the thing asked for, a
 * limit, the deadline): passed on to our caller as they came.
 */
const CALLER_FACING_CODES: ReadonlySet<number> = new Set([
  grpc.status.CANCELLED,
  grpc.status.INVALID_ARGUMENT,
  grpc.status.DEADLINE_EXCEEDED,
  grpc.status.NOT_FOUND,
  grpc.status.ALREADY_EXISTS,
  grpc.status.PERMISSION_DENIED,
  grpc.status.RESOURCE_EXHAUSTED,
  grpc.status.FAILED_PRECONDITION,
  grpc.status.ABORTED,
  grpc.status.OUT_OF_RANGE,
  grpc.status.DATA_LOSS,
  grpc.status.UNAUTHENTICATED,
]);

/** Downstream codes that mean a bug or crash there: the code is passed on, the text only to our log. */
const HIDDEN_CODES: ReadonlySet<number> = new Set([grpc.status.INTERNAL, grpc.status.UNKNOWN, grpc.status.UNIMPLEMENTED]);

/** The generic messages that replace downstream text not meant for our caller. */
export const INTERNAL_ERROR_MESSAGE = 'internal error';
export const DEPENDENCY_UNAVAILABLE_MESSAGE = 'a dependency is unavailable';

/**
 * Passes on a status error received from `source` (a service we called; named in the message) as our own:
 * a caller-facing code keeps its message, prefixed `source: `; UNAVAILABLE reads `source is unavailable`
 * (grpc-js writes connection failures there, with addresses); INTERNAL, UNKNOWN and UNIMPLEMENTED keep their
 * code but their text goes only to the log. The original is the `cause` either way.
 */
export function relayError(error: grpc.ServiceError, source: string): GrpcError {
  const details = error.details || error.message;
  if (CALLER_FACING_CODES.has(error.code)) return new GrpcError(error.code, `${source}: ${details}`, { cause: error });
  if (error.code === grpc.status.UNAVAILABLE) return new GrpcError(error.code, `${source} is unavailable`, { cause: error });
  const code = HIDDEN_CODES.has(error.code) ? error.code : grpc.status.INTERNAL;
  return new GrpcError(code, `${source} failed: ${grpc.status[error.code] ?? error.code} ${details}`, { cause: error, exposed: false });
}

/**
 * What a handler's failure becomes on the wire. Our own GrpcErrors keep their code and message (deliberate
 * text), unless made with `exposed: false`. A downstream status error passed through unwrapped keeps its code;
 * its message only when the code is caller-facing (a NOT_FOUND from the registry is a NOT_FOUND for the caller
 * too): an UNAVAILABLE reads 'a dependency is unavailable', an INTERNAL, UNKNOWN or UNIMPLEMENTED 'internal
 * error' and is logged. Anything else is a bug: INTERNAL with a generic message, so no stack trace or internal
 * detail reaches a client. `unexpected` asks the handler to log the error. Every message is bounded
 * (boundStatusMessage), whatever it quotes.
 */
export function toStatusObject(error: unknown): { code: grpc.status; details: string; unexpected: boolean } {
  const status = statusOf(error);
  return { ...status, details: boundStatusMessage(status.details) };
}

function statusOf(error: unknown): { code: grpc.status; details: string; unexpected: boolean } {
  if (error instanceof GrpcError) {
    if (error.exposed) return { code: error.code, details: error.message, unexpected: false };
    return { code: error.code, details: INTERNAL_ERROR_MESSAGE, unexpected: true };
  }
  if (isServiceError(error)) {
    if (CALLER_FACING_CODES.has(error.code)) return { code: error.code, details: error.details || error.message, unexpected: false };
    if (error.code === grpc.status.UNAVAILABLE) return { code: error.code, details: DEPENDENCY_UNAVAILABLE_MESSAGE, unexpected: false };
    return { code: HIDDEN_CODES.has(error.code) ? error.code : grpc.status.INTERNAL, details: INTERNAL_ERROR_MESSAGE, unexpected: true };
  }
  return { code: grpc.status.INTERNAL, details: INTERNAL_ERROR_MESSAGE, unexpected: true };
}
