import * as grpc from '@grpc/grpc-js';
import { Status } from '@maas/protos';

/** Bad command line: maasctl prints it with the usage hint and exits 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/**
 * A failure detected by maasctl itself: exit 1. `code` is the gRPC status the failure amounts to (nothing to
 * promote is FAILED_PRECONDITION, as the registry would say), absent for local failures such as an unreadable file.
 */
export class CliError extends Error {
  override readonly name = 'CliError';
  readonly code: number | undefined;

  constructor(message: string, options: { code?: number } = {}) {
    super(message);
    this.code = options.code;
  }
}

/** One line for the user: `NOT_FOUND: model "x" is not registered` for a gRPC status, the message otherwise. */
export function describeError(error: unknown): string {
  if (error instanceof CliError) return error.code === undefined ? error.message : `${Status[error.code]}: ${error.message}`;
  const status = error as { code?: unknown; details?: unknown; message?: unknown };
  if (error instanceof Error && typeof status.code === 'number' && 'details' in error) {
    const details = typeof status.details === 'string' && status.details ? status.details : error.message;
    return `${Status[status.code] ?? `code ${status.code}`}: ${details}`;
  }
  return error instanceof Error ? error.message : String(error);
}

/** grpc-js's words for why a connection failed, in the user's words. */
const CONNECT_FAILURES: Array<[RegExp, string]> = [
  [/ECONNREFUSED/, 'connection refused'],
  [/Name resolution failed|ENOTFOUND|EAI_AGAIN/, 'the host name does not resolve'],
  [/EHOSTUNREACH|ENETUNREACH/, 'no route to the host'],
  [/ETIMEDOUT/, 'connection timed out'],
];

/**
 * A call that failed before the channel ever connected says so in grpc-js's terms (`round_robin: No connection
 * established. Last error: ...`). The user needs "cannot reach the gateway at ADDRESS": this returns that error
 * when the channel is not connected (so the server never answered); a status the server sent passes through.
 */
export function unreachableAs(error: unknown, options: { client: grpc.Client; what: string; address: string }): unknown {
  const code = (error as { code?: unknown }).code;
  if (code !== Status.UNAVAILABLE && code !== Status.DEADLINE_EXCEEDED) return error;
  // A connected channel means the server itself answered with this status.
  if (options.client.getChannel().getConnectivityState(false) === grpc.connectivityState.READY) return error;
  const details = String((error as { details?: unknown }).details ?? '');
  const reason =
    CONNECT_FAILURES.find(([pattern]) => pattern.test(details))?.[1] ??
    (code === Status.DEADLINE_EXCEEDED ? 'no connection before the deadline' : 'no connection');
  return new CliError(`cannot reach the ${options.what} at ${options.address} (${reason})`, { code: code as number });
}
