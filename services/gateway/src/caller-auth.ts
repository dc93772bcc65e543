/**
 * Who is calling the gateway: a bearer token in the `authorization` metadata (what Triton/KServe clients send as
 * a header), either an API key (api-key-file.ts, checked against hashes) or a JWT verified with jose against the
 * configured JWKS and issuers. The result is a caller: an id for limits and logs, and its scopes.
 */
import fs from 'node:fs';
import type * as grpc from '@grpc/grpc-js';
import { createLocalJWKSet, createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { findApiKey, isApiKeyToken, readApiKeyFile, type ApiKeyRecord, type Logger } from '@maas/shared';
import type { EdgeConfig } from './edge-config.js';

/** An authenticated caller. */
export interface Caller {
  /** `key:<id>` or `jwt:<issuer>#<subject>`: the unit of rate limits and concurrency caps. */
  id: string;
  scopes: readonly string[];
}

/** Why a token was refused: said to the caller as UNAUTHENTICATED (nothing internal in it). */
export class AuthenticationError extends Error {
  constructor(
    readonly reason: 'missing' | 'malformed' | 'unknown-key' | 'expired' | 'issuer' | 'invalid',
    message: string,
  ) {
    super(message);
  }
}

/** How often the keys file is checked for a change (a revocation takes effect within this). */
const KEYS_RELOAD_MS = 1_000;

export interface CallerAuthenticator {
  authenticate(metadata: grpc.Metadata): Promise<Caller>;
  close(): void;
}

export function createCallerAuthenticator(config: EdgeConfig, logger: Logger): CallerAuthenticator {
  let keys: readonly ApiKeyRecord[] = [];
  let keysStamp = '';
  const reloadKeys = () => {
    const stat = fs.statSync(config.apiKeysFile, { throwIfNoEntry: false });
    const stamp = stat ? `${stat.mtimeMs}:${stat.size}:${stat.ino}` : 'none';
    if (stamp === keysStamp) return;
    try {
      keys = readApiKeyFile(config.apiKeysFile).keys;
      keysStamp = stamp;
      logger.info({ keys: keys.length, revoked: keys.filter((key) => key.revoked_at).length }, 'API keys loaded');
    } catch (error) {
      // Keep the last good set: a half-edited file must not lock everyone out (or let anyone in).
      logger.error({ err: error }, 'API keys file unreadable; keeping the previous keys');
    }
  };
  reloadKeys();
  const timer = setInterval(reloadKeys, KEYS_RELOAD_MS);
  timer.unref();

  let jwks: JWTVerifyGetKey | undefined;
  if (config.jwtJwksFile) jwks = createLocalJWKSet(JSON.parse(fs.readFileSync(config.jwtJwksFile, 'utf8')));
  else if (config.jwtJwksUrl) jwks = createRemoteJWKSet(new URL(config.jwtJwksUrl));

  const verifyJwt = async (token: string): Promise<Caller> => {
    if (!jwks) throw new AuthenticationError('invalid', 'the bearer token is not a valid API key, and this gateway accepts no JWTs');
    try {
      const { payload } = await jwtVerify(token, jwks, { issuer: config.jwtIssuers, ...(config.jwtAudience ? { audience: config.jwtAudience } : {}) });
      const scopes = typeof payload.scope === 'string' ? payload.scope.split(' ').filter(Boolean) : Array.isArray(payload.scp) ? payload.scp.map(String) : [];
      return { id: `jwt:${payload.iss}#${payload.sub ?? ''}`, scopes };
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired) throw new AuthenticationError('expired', 'the JWT has expired');
      if (error instanceof joseErrors.JWTClaimValidationFailed && error.claim === 'iss')
        throw new AuthenticationError('issuer', 'the JWT is from an issuer this gateway does not trust');
      if (error instanceof joseErrors.JWTClaimValidationFailed) throw new AuthenticationError('invalid', `the JWT's "${error.claim}" claim is not accepted`);
      throw new AuthenticationError('invalid', 'the JWT could not be verified');
    }
  };

  return {
    async authenticate(metadata) {
      const values = metadata.get('authorization');
      if (values.length === 0) throw new AuthenticationError('missing', 'this call needs a bearer token in the "authorization" metadata');
      const match = /^Bearer\s+(\S+)$/i.exec(String(values[0]));
      if (!match || values.length > 1) throw new AuthenticationError('malformed', 'the "authorization" metadata must be one "Bearer <token>"');
      const token = match[1]!;
      if (isApiKeyToken(token)) {
        const key = findApiKey(keys, token);
        if (!key) throw new AuthenticationError('unknown-key', 'the API key is unknown or revoked');
        return { id: `key:${key.id}`, scopes: key.scopes };
      }
      return verifyJwt(token);
    },
    close: () => clearInterval(timer),
  };
}
