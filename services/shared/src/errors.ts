import * as grpc from '@grpc/grpc-js';

/** An error that means something to the caller: sent as this gRPC status and message. */
export class GrpcError extends Error {
  constructor(readonly code: grpc.status, message: string) {
    super(message);
    this.name = 'GrpcError';
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

/** A status error received from another gRPC service (grpc-js ServiceError). */
export function isServiceError(error: unknown): error is grpc.ServiceError {
  return error instanceof Error && typeof (error as Partial<grpc.ServiceError>).code === 'number' && 'metadata' in error;
}

/** Whether `error` carries gRPC status `code` (ours or a downstream one). */
export function hasStatus(error: unknown, code: grpc.status): boolean {
  return (error instanceof GrpcError || isServiceError(error)) && error.code === code;
}

/**
 * What a handler's failure becomes on the wire. Our own GrpcErrors and downstream status errors keep their
 * code and message (a NOT_FOUND from the registry is a NOT_FOUND for the caller too); anything else is a bug:
 * INTERNAL with a generic message, so no stack trace or internal detail reaches a client.
 */
export function toStatusObject(error: unknown): { code: grpc.status; details: string; unexpected: boolean } {
  if (error instanceof GrpcError) return { code: error.code, details: error.message, unexpected: false };
  if (isServiceError(error)) return { code: error.code, details: error.details || error.message, unexpected: false };
  return { code: grpc.status.INTERNAL, details: 'internal error', unexpected: true };
}
