/**
 * TLS for every gRPC hop, from PEM files that are reloaded when they change (cert-manager rewrites the mounted
 * Secret before a certificate expires; `npm start` writes them once). Servers of the mesh require a client
 * certificate from the mesh CA; clients present theirs and check that the server holds a mesh identity. The
 * files are polled (a timer that does not keep the process alive): new connections get the new certificate,
 * existing ones keep theirs until they close, so a rotation fails no call.
 */
import fs from 'node:fs';
import { checkServerIdentity, createSecureContext, type PeerCertificate } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import type { ConfigReader } from './config.js';
import type { Logger } from './logger.js';
import { healthOnlyOnPort, IDENTITY_PREFIX, MESH_METHOD_POLICY, methodPolicyInterceptor, uriSans } from './peer-identity.js';

/** TLS_MODE and the files: how a service serves and calls. */
export interface TlsConfig {
  /** TLS_MODE: `mtls` (default: TLS with client certificates on every hop) or `plaintext` (explicit opt-out). */
  mode: 'mtls' | 'plaintext';
  /** TLS_CERT_FILE: this service's certificate (PEM), presented as server and as client. */
  certFile: string;
  /** TLS_KEY_FILE: its private key (PEM). */
  keyFile: string;
  /** TLS_CA_FILE: the CA(s) whose certificates this service trusts (PEM). */
  caFile: string;
  /** TLS_RELOAD_MS: how often the files are checked for a change, in milliseconds. */
  reloadMs: number;
}

/** Where cert-manager's Secret is mounted in the manifests (k8s/components/cert-manager). */
export const DEFAULT_TLS_DIR = '/etc/maas/tls';

/** Reads TLS_*; in mtls mode each file must exist (named in the config error when it does not). */
export function tlsConfig(reader: ConfigReader): TlsConfig {
  const config: TlsConfig = {
    mode: reader.oneOf('TLS_MODE', ['mtls', 'plaintext'], {
      default: 'mtls',
      doc: 'mtls: TLS with client certificates on every hop; plaintext: none (explicit opt-out)',
    }),
    certFile: reader.string('TLS_CERT_FILE', { default: `${DEFAULT_TLS_DIR}/tls.crt`, doc: "this service's certificate (PEM)" }),
    keyFile: reader.string('TLS_KEY_FILE', { default: `${DEFAULT_TLS_DIR}/tls.key`, doc: "this service's private key (PEM)" }),
    caFile: reader.string('TLS_CA_FILE', { default: `${DEFAULT_TLS_DIR}/ca.crt`, doc: 'CA certificates trusted for peers (PEM)' }),
    reloadMs: reader.int('TLS_RELOAD_MS', { default: 5_000, min: 50, doc: 'how often the certificate files are checked for a change (ms)' }),
  };
  if (config.mode === 'mtls') {
    for (const [name, file] of [
      ['TLS_CERT_FILE', config.certFile],
      ['TLS_KEY_FILE', config.keyFile],
      ['TLS_CA_FILE', config.caFile],
    ] as const) {
      if (!fs.existsSync(file)) reader.problem(`${name}=${JSON.stringify(file)} does not exist (TLS_MODE=mtls needs it; TLS_MODE=plaintext turns TLS off)`);
    }
  }
  return config;
}

/**
 * A grpc-js certificate provider over three files: it reads them at once, then every `reloadMs`, and tells its
 * listeners when their content changed. A half-written set (a key that does not match yet) is skipped until
 * the next read; listeners keep the last good one.
 */
export class FileCertificateProvider implements grpc.experimental.CertificateProvider {
  private readonly caListeners = new Set<grpc.experimental.CaCertificateUpdateListener>();
  private readonly identityListeners = new Set<grpc.experimental.IdentityCertificateUpdateListener>();
  private ca: grpc.experimental.CaCertificateUpdate;
  private identity: grpc.experimental.IdentityCertificateUpdate;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly files: Pick<TlsConfig, 'certFile' | 'keyFile' | 'caFile' | 'reloadMs'>) {
    const read = this.read();
    if (!read) throw new Error('the TLS certificate, key and CA files cannot be read or do not match');
    this.ca = read.ca;
    this.identity = read.identity;
  }

  private read(): { ca: grpc.experimental.CaCertificateUpdate; identity: grpc.experimental.IdentityCertificateUpdate } | undefined {
    try {
      const certificate = fs.readFileSync(this.files.certFile);
      const privateKey = fs.readFileSync(this.files.keyFile);
      const caCertificate = fs.readFileSync(this.files.caFile);
      // Fails when the key does not belong to the certificate (a rotation caught between its two writes).
      createSecureContext({ cert: certificate, key: privateKey, ca: caCertificate });
      return { ca: { caCertificate }, identity: { certificate, privateKey } };
    } catch {
      return undefined;
    }
  }

  private refresh(): void {
    const read = this.read();
    if (!read) return;
    if (!read.ca.caCertificate.equals(this.ca.caCertificate)) {
      this.ca = read.ca;
      for (const listener of this.caListeners) listener(this.ca);
    }
    if (!read.identity.certificate.equals(this.identity.certificate) || !read.identity.privateKey.equals(this.identity.privateKey)) {
      this.identity = read.identity;
      for (const listener of this.identityListeners) listener(this.identity);
    }
  }

  private watch(): void {
    if (this.timer || this.caListeners.size + this.identityListeners.size === 0) return;
    this.timer = setInterval(() => this.refresh(), this.files.reloadMs);
    this.timer.unref();
  }

  private unwatchWhenUnused(): void {
    if (this.caListeners.size + this.identityListeners.size > 0 || !this.timer) return;
    clearInterval(this.timer);
    this.timer = undefined;
  }

  addCaCertificateListener(listener: grpc.experimental.CaCertificateUpdateListener): void {
    this.caListeners.add(listener);
    // Next tick, as grpc-js's own providers do: credentials register their watchers after adding the listener.
    process.nextTick(() => this.caListeners.has(listener) && listener(this.ca));
    this.watch();
  }

  removeCaCertificateListener(listener: grpc.experimental.CaCertificateUpdateListener): void {
    this.caListeners.delete(listener);
    this.unwatchWhenUnused();
  }

  addIdentityCertificateListener(listener: grpc.experimental.IdentityCertificateUpdateListener): void {
    this.identityListeners.add(listener);
    process.nextTick(() => this.identityListeners.has(listener) && listener(this.identity));
    this.watch();
  }

  removeIdentityCertificateListener(listener: grpc.experimental.IdentityCertificateUpdateListener): void {
    this.identityListeners.delete(listener);
    this.unwatchWhenUnused();
  }
}

/** One provider per set of files in this process: servers and clients of a service share its reloads. */
const providers = new Map<string, FileCertificateProvider>();

function providerFor(tls: TlsConfig): FileCertificateProvider {
  const key = JSON.stringify([tls.certFile, tls.keyFile, tls.caFile, tls.reloadMs]);
  let provider = providers.get(key);
  if (!provider) {
    provider = new FileCertificateProvider(tls);
    providers.set(key, provider);
  }
  return provider;
}

export interface ServerTlsOptions {
  /** Refuse connections without a client certificate from the CA (internal services); false for the public gateway port. */
  requireClientCertificate: boolean;
}

/** Server credentials for `tls`: insecure only in plaintext mode. */
export function serverCredentials(tls: TlsConfig, options: ServerTlsOptions): grpc.ServerCredentials {
  if (tls.mode === 'plaintext') return grpc.ServerCredentials.createInsecure();
  // One provider gives both the CA and the identity, so the order of grpc-js's two provider arguments (they
  // differ between its exported function and the class it builds) does not matter.
  const provider = providerFor(tls);
  return grpc.experimental.createCertificateProviderServerCredentials(provider, provider, options.requireClientCertificate);
}

/**
 * Accepts a server certificate that carries a mesh identity (URI SAN spiffe://maas/...), or failing that one
 * valid for the host name dialled: mesh peers are named by identity, not by whichever address reached them.
 */
export function checkMeshServerIdentity(hostname: string, certificate: PeerCertificate): Error | undefined {
  if (uriSans(certificate).some((uri) => uri.startsWith(IDENTITY_PREFIX))) return undefined;
  return checkServerIdentity(hostname, certificate);
}

/** Channel credentials for `tls`: the service's own certificate as client certificate, the CA to trust. */
export function channelCredentials(tls: TlsConfig): grpc.ChannelCredentials {
  if (tls.mode === 'plaintext') return grpc.credentials.createInsecure();
  const provider = providerFor(tls);
  return grpc.experimental.createCertificateProviderChannelCredentials(provider, provider, { checkServerIdentity: checkMeshServerIdentity });
}

/**
 * The name TLS clients of the mesh send as server name. Peers are checked by their mesh identity
 * (checkMeshServerIdentity), and an IP address may not be sent as one (RFC 6066; Node warns).
 */
export const MESH_SERVER_NAME = 'maas.mesh';

/** createClient's options for a hop inside the mesh under `tls`. */
export function meshClientOptions(tls: TlsConfig): { credentials: grpc.ChannelCredentials; channelOptions: grpc.ChannelOptions } {
  return { credentials: channelCredentials(tls), channelOptions: tls.mode === 'plaintext' ? {} : { 'grpc.ssl_target_name_override': MESH_SERVER_NAME } };
}

/**
 * startGrpcServer's `security` for an internal service: mTLS with a client certificate required and the mesh's
 * method policy (peer-identity.ts); in plaintext mode neither, only the identity header dropped.
 */
export function meshServerSecurity(options: { tls: TlsConfig; healthPort: number; logger: Logger }): {
  credentials: grpc.ServerCredentials;
  interceptors: grpc.ServerInterceptor[];
  plaintextHealthPort: number;
} {
  const { tls, healthPort, logger } = options;
  return {
    credentials: serverCredentials(tls, { requireClientCertificate: true }),
    interceptors: [...healthPortInterceptors(healthPort), methodPolicyInterceptor({ policy: MESH_METHOD_POLICY, logger, enforce: tls.mode === 'mtls' })],
    plaintextHealthPort: healthPort,
  };
}

/** The guard of the plaintext probe port, when there is one. */
export function healthPortInterceptors(healthPort: number): grpc.ServerInterceptor[] {
  return healthPort > 0 ? [healthOnlyOnPort(healthPort)] : [];
}

/**
 * `options` with a bearer token sent on every call (the gateway's `authorization` metadata). Needs TLS
 * credentials: grpc-js sends call credentials only over a secure channel, as a token must never travel in clear.
 */
export function withBearerToken<T extends { credentials?: grpc.ChannelCredentials }>(options: T, token: string): T {
  if (!options.credentials) throw new Error('a bearer token needs TLS credentials');
  const bearer = grpc.credentials.createFromMetadataGenerator((_params, callback) => {
    const metadata = new grpc.Metadata();
    metadata.set('authorization', `Bearer ${token}`);
    callback(null, metadata);
  });
  return { ...options, credentials: grpc.credentials.combineChannelCredentials(options.credentials, bearer) };
}
