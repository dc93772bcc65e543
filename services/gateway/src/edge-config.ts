/** The gateway's edge settings: who may call (API keys, JWTs) and how much (per-caller limits). */
import type { ConfigReader } from '@maas/shared';

export interface EdgeConfig {
  /** AUTH_MODE: `required` (default: every call but health and reflection needs a bearer token) or `off` (explicit opt-out). */
  authMode: 'required' | 'off';
  /** API_KEYS_FILE: the hashed API keys (maasctl keys create/revoke writes it); reread when it changes. */
  apiKeysFile: string;
  /** JWT_JWKS_FILE: a local JWKS (JSON) whose keys sign accepted JWTs; empty: none. */
  jwtJwksFile: string;
  /** JWT_JWKS_URL: a JWKS URL (an identity provider's), fetched and cached by jose; empty: none. */
  jwtJwksUrl: string;
  /** JWT_ISSUERS: accepted `iss` values (comma-separated); required when a JWKS is set. */
  jwtIssuers: string[];
  /** JWT_AUDIENCE: the `aud` a JWT must carry; empty: not checked. */
  jwtAudience: string;
  /** RATE_LIMIT_RPS: calls per second each caller may make on average (token bucket); 0: no limit. */
  rateLimitRps: number;
  /** RATE_LIMIT_BURST: calls a caller may make at once above the average (bucket size). */
  rateLimitBurst: number;
  /** MAX_CONCURRENT_PER_CALLER: calls one caller may have in flight; 0: no cap. */
  maxConcurrentPerCaller: number;
}

export function edgeConfig(reader: ConfigReader): EdgeConfig {
  const config: EdgeConfig = {
    authMode: reader.oneOf('AUTH_MODE', ['required', 'off'], {
      default: 'required',
      doc: 'required: a bearer token on every call but health and reflection; off: none',
    }),
    apiKeysFile: reader.string('API_KEYS_FILE', { default: '/etc/maas/auth/api-keys.json', doc: 'hashed API keys (maasctl keys create)' }),
    jwtJwksFile: reader.string('JWT_JWKS_FILE', { default: '', doc: 'local JWKS file for JWT signatures' }),
    jwtJwksUrl: reader.string('JWT_JWKS_URL', { default: '', doc: 'JWKS URL for JWT signatures' }),
    jwtIssuers: reader.list('JWT_ISSUERS', { default: [], doc: 'accepted JWT issuers (comma-separated)' }),
    jwtAudience: reader.string('JWT_AUDIENCE', { default: '', doc: 'required JWT audience' }),
    rateLimitRps: reader.number('RATE_LIMIT_RPS', { default: 1_000, min: 0, doc: 'average calls per second per caller (0: no limit)' }),
    rateLimitBurst: reader.int('RATE_LIMIT_BURST', { default: 2_000, min: 1, doc: 'calls a caller may make at once above the average' }),
    maxConcurrentPerCaller: reader.int('MAX_CONCURRENT_PER_CALLER', { default: 128, min: 0, doc: 'calls one caller may have in flight (0: no cap)' }),
  };
  if ((config.jwtJwksFile || config.jwtJwksUrl) && config.jwtIssuers.length === 0)
    reader.problem('JWT_ISSUERS is required when JWT_JWKS_FILE or JWT_JWKS_URL is set (which issuers to trust)');
  if (config.jwtJwksFile && config.jwtJwksUrl) reader.problem('set JWT_JWKS_FILE or JWT_JWKS_URL, not both');
  return config;
}
