/**
 * Channel options for calls inside the mesh, chosen so that a peer that restarts is found again within a
 * second rather than after an exponential reconnect backoff (grpc-js defaults: 1 s first, growing to 120 s),
 * and a peer that vanished without closing its socket is noticed within seconds (keepalive).
 */
import type * as grpc from '@grpc/grpc-js';

/** Longest wait between reconnect attempts to a peer that went away (grpc-js adds up to 20 % jitter): a restarted one is found within ~0.6 s. */
export const MAX_RECONNECT_BACKOFF_MS = 500;

export const RECOVERY_CHANNEL_OPTIONS: Readonly<grpc.ChannelOptions> = {
  'grpc.initial_reconnect_backoff_ms': 100,
  'grpc.max_reconnect_backoff_ms': MAX_RECONNECT_BACKOFF_MS,
  // Pings every 15 s (servers refuse pings more often than every 10 s); no answer within 5 s closes the connection.
  'grpc.keepalive_time_ms': 15_000,
  'grpc.keepalive_timeout_ms': 5_000,
  'grpc.keepalive_permit_without_calls': 1,
};
