import { Status } from '@maas/protos';

/** Bad command line: maasctl prints it with the usage hint and exits 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** A failure detected by maasctl itself (unreadable package, nothing to promote): exit 1. */
export class CliError extends Error {
  override readonly name = 'CliError';
}

/** One line for the user: `NOT_FOUND: model "x" is not registered` for a gRPC status, the message otherwise. */
export function describeError(error: unknown): string {
  const status = error as { code?: unknown; details?: unknown; message?: unknown };
  if (error instanceof Error && typeof status.code === 'number' && 'details' in error) {
    const details = typeof status.details === 'string' && status.details ? status.details : error.message;
    return `${Status[status.code] ?? `code ${status.code}`}: ${details}`;
  }
  return error instanceof Error ? error.message : String(error);
}
