/**
 * Who is calling, from the client certificate of an mTLS connection, and which identities may call which
 * method. An identity is the certificate's SPIFFE-style URI SAN (`spiffe://maas/gateway`), or its CN when it
 * has none. The check runs as a server interceptor, before the request message is read.
 */
import * as grpc from '@grpc/grpc-js';
import type { Logger } from './logger.js';

/** Prefix of every mesh identity; a certificate from the mesh CA names one of these. */
export const IDENTITY_PREFIX = 'spiffe://maas/';

/** The identity of a service or user of the mesh: `spiffe://maas/<name>`. */
export function serviceIdentity(name: string): string {
  return `${IDENTITY_PREFIX}${name}`;
}

/** URI SANs of a peer certificate (Node spells them "URI:spiffe://..., DNS:localhost"). */
export function uriSans(certificate: { subjectaltname?: string | undefined }): string[] {
  return (certificate.subjectaltname ?? '')
    .split(/,\s*/)
    .filter((entry) => entry.startsWith('URI:'))
    .map((entry) => entry.slice(4));
}

/** The caller's identity on an mTLS connection; undefined without a verified client certificate. */
export function peerIdentity(authContext: ReturnType<grpc.ServerInterceptingCallInterface['getAuthContext']> | null | undefined): string | undefined {
  const certificate = authContext?.sslPeerCertificate;
  if (!certificate || Object.keys(certificate).length === 0) return undefined;
  const uri = uriSans(certificate).find((value) => value.startsWith(IDENTITY_PREFIX));
  if (uri) return uri;
  const cn = certificate.subject?.CN;
  return typeof cn === 'string' && cn ? cn : undefined;
}

/**
 * The HTTP/2 session (one TLS connection) a server call arrived on, found by walking grpc-js's interceptor chain
 * (`nextCall`) down to its base call's `stream`: internals of grpc-js 1.x, hence the duck typing and the
 * undefined (no cache, the certificate read per call) when the shape is not found. A test pins that it is found.
 */
export function connectionOf(call: object): object | undefined {
  let current: unknown = call;
  for (let depth = 0; depth < 16 && current !== null && typeof current === 'object'; depth++) {
    const stream = (current as { stream?: { session?: unknown } }).stream;
    if (stream && typeof stream === 'object') return typeof stream.session === 'object' && stream.session !== null ? stream.session : undefined;
    current = (current as { nextCall?: unknown }).nextCall;
  }
  return undefined;
}

/**
 * Identities per connection: the peer certificate of a TLS connection cannot change while it is open, and
 * reading it (`getPeerCertificate`, which builds a fresh object with the parsed certificate every time) was 4–6 %
 * of the tokenizer's and inference's CPU under load when done per call. Weak keys: a closed connection's entry
 * goes with its session.
 */
const identityByConnection = new WeakMap<object, string | undefined>();

/** The caller's identity (see peerIdentity), read once per connection. */
export function callPeerIdentity(call: grpc.ServerInterceptingCallInterface): string | undefined {
  const connection = connectionOf(call);
  if (connection && identityByConnection.has(connection)) return identityByConnection.get(connection);
  const identity = peerIdentity(call.getAuthContext());
  if (connection) identityByConnection.set(connection, identity);
  return identity;
}

/**
 * Which identities may call what: keys are a full method path (`/maas.v1.Tokenizer/Encode`) or a service with
 * `/*` (`/inference.GRPCInferenceService/*`); values are identities, '*' for any verified peer, or ANYONE
 * for callers without a certificate too. A method
 * no key names is allowed to `defaultIdentities` only.
 */
export interface MethodPolicy {
  rules: Readonly<Record<string, readonly string[]>>;
  defaultIdentities: readonly string[];
}

/** In a policy: callers without any certificate too (grpc.health.v1 on the plaintext probe port). */
export const ANYONE = 'anyone';

const ADMIN = serviceIdentity('admin');
const GATEWAY = serviceIdentity('gateway');
/** The rollout controller (issue 8) moves rollouts and aliases as the analysis decides; it registers nothing. */
const ROLLOUT_CONTROLLER = serviceIdentity('rollout-controller');
const REGISTRY_READERS = [GATEWAY, serviceIdentity('tokenizer'), serviceIdentity('inference'), ROLLOUT_CONTROLLER, ADMIN];

/**
 * The mesh's table. Health and reflection are open to any peer with a mesh certificate. The gateway calls the
 * tokenizer and inference; every service reads the registry; writes — RegisterVersion, SetRollout, SetAlias,
 * CheckStorage and any method added later that this table does not name — are the admin's alone (deny by
 * default), except that the rollout controller may set rollouts and aliases (its whole job). The admin may
 * also call the internal services directly, as an operator debugging them would.
 */
export const MESH_METHOD_POLICY: MethodPolicy = {
  rules: {
    '/grpc.health.v1.Health/*': [ANYONE],
    '/grpc.reflection.v1.ServerReflection/*': ['*'],
    '/grpc.reflection.v1alpha.ServerReflection/*': ['*'],
    '/maas.v1.Tokenizer/*': [GATEWAY, ADMIN],
    '/inference.GRPCInferenceService/*': [GATEWAY, ADMIN],
    '/maas.v1.ModelRegistry/ListModels': REGISTRY_READERS,
    '/maas.v1.ModelRegistry/GetModel': REGISTRY_READERS,
    '/maas.v1.ModelRegistry/GetVersion': REGISTRY_READERS,
    '/maas.v1.ModelRegistry/DownloadArtifact': REGISTRY_READERS,
    // Writes and admin tools: the admin's (named here for the reader; unnamed methods are the admin's anyway), and
    // rollouts and aliases also the rollout controller's.
    '/maas.v1.ModelRegistry/RegisterVersion': [ADMIN],
    '/maas.v1.ModelRegistry/SetRollout': [ROLLOUT_CONTROLLER, ADMIN],
    '/maas.v1.ModelRegistry/SetAlias': [ROLLOUT_CONTROLLER, ADMIN],
    '/maas.v1.ModelRegistry/CheckStorage': [ADMIN],
    '/maas.v1.ModelRegistry/ListAuditEvents': [ADMIN],
  },
  defaultIdentities: [ADMIN],
};

/** The identities allowed to call `methodPath` under `policy`. */
export function allowedIdentities(policy: MethodPolicy, methodPath: string): readonly string[] {
  const exact = policy.rules[methodPath];
  if (exact) return exact;
  const service = methodPath.slice(0, methodPath.lastIndexOf('/'));
  return policy.rules[`${service}/*`] ?? policy.defaultIdentities;
}

/** Metadata key under which the checked caller identity is handed to handlers (set by the server, never trusted from the client). */
export const PEER_IDENTITY_METADATA = 'x-maas-peer-identity';

/**
 * A server interceptor enforcing `policy` on the caller's certificate identity: UNAUTHENTICATED without a client
 * certificate, PERMISSION_DENIED for an identity the method does not allow. It hands the identity on to the
 * handler in metadata (PEER_IDENTITY_METADATA, replacing whatever the client sent there). With `enforce` false
 * (plaintext mode) it only removes that header.
 */
export function methodPolicyInterceptor(options: { policy: MethodPolicy; logger: Logger; enforce: boolean }): grpc.ServerInterceptor {
  return (method, call) =>
    new grpc.ServerInterceptingCall(call, {
      start(next) {
        next({
          onReceiveMetadata(metadata, forward) {
            metadata.remove(PEER_IDENTITY_METADATA);
            // Plaintext (TLS_MODE=plaintext): no identity to check; the header a client sent is still dropped.
            if (!options.enforce) return forward(metadata);
            const identity = callPeerIdentity(call);
            const allowed = allowedIdentities(options.policy, method.path);
            // Health is for anyone, certificate or not (the plaintext probe port, HEALTH_PORT).
            if (allowed.includes(ANYONE)) return forward(metadata);
            if (!identity) {
              call.sendStatus({ code: grpc.status.UNAUTHENTICATED, details: `${method.path} needs a client certificate from the mesh CA` });
              return;
            }
            if (!allowed.includes('*') && !allowed.includes(identity)) {
              options.logger.warn({ identity, method: method.path }, 'call refused by the method policy');
              call.sendStatus({ code: grpc.status.PERMISSION_DENIED, details: `${identity} may not call ${method.path}` });
              return;
            }
            metadata.set(PEER_IDENTITY_METADATA, identity);
            forward(metadata);
          },
        });
      },
    });
}

/** The identity methodPolicyInterceptor checked for this call ('' without one: a plaintext mesh). */
export function callerIdentity(call: { metadata: grpc.Metadata }): string {
  const value = call.metadata.get(PEER_IDENTITY_METADATA)[0];
  return typeof value === 'string' ? value : '';
}

/** On the plaintext probe port (HEALTH_PORT) only grpc.health.v1 may be called, whatever the TLS mode. */
export function healthOnlyOnPort(port: number): grpc.ServerInterceptor {
  return (method, call) =>
    new grpc.ServerInterceptingCall(call, {
      start(next) {
        next({
          onReceiveMetadata(metadata, forward) {
            if (method.path.startsWith('/grpc.health.v1.Health/') || call.getConnectionInfo().localPort !== port) return forward(metadata);
            call.sendStatus({ code: grpc.status.PERMISSION_DENIED, details: `this port serves health checks only; call ${method.path} on the service port` });
          },
        });
      },
    });
}
