/**
 * The mesh CA and an API key for tests: made once per test process in a temp folder (milliseconds: ECDSA P-256), with a
 * certificate for each service and for the admin. Tests run with TLS on, as the services default to.
 */
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type * as grpc from '@grpc/grpc-js';
import {
  channelCredentials,
  configReader,
  createApiKey,
  ensureLocalPki,
  withBearerToken,
  meshClientOptions,
  SERVICE_NAMES,
  tlsConfig,
  type ClientOptions,
  type IdentityFiles,
} from '@maas/shared';

/** The identities the test CA issues: the four services and the admin. */
export const TEST_IDENTITIES = [...SERVICE_NAMES, 'admin'] as const;
export type TestIdentity = (typeof TEST_IDENTITIES)[number];

export interface TestPki {
  dir: string;
  files: Record<TestIdentity, IdentityFiles>;
  /** The gateway's keys file (API_KEYS_FILE) and a key with every scope in it. */
  apiKeysFile: string;
  token: string;
  /** TLS_* variables (and API_KEYS_FILE) for a service (or admin) of the test mesh. */
  env(identity: TestIdentity): Record<string, string>;
  /** Client credentials presenting `identity`'s certificate. */
  credentials(identity: TestIdentity): grpc.ChannelCredentials;
  /** createClient's options for a client with `identity`'s certificate and the all-scopes API key (`token`: another one). */
  clientOptions(identity: TestIdentity, token?: string): ClientOptions;
}

let pki: Promise<TestPki> | undefined;
let made: TestPki | undefined;

/** The process's test CA (made on first use, removed as the process exits). */
export function testPki(): Promise<TestPki> {
  pki ??= (async () => {
    const dir = fs.mkdtempSync(path.join(tmpdir(), 'maas-pki-'));
    process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
    const { files } = await ensureLocalPki({ dir, identities: TEST_IDENTITIES });
    const apiKeysFile = path.join(dir, 'api-keys.json');
    const { token } = createApiKey(apiKeysFile, { owner: 'tests', scopes: ['*'] });
    const env = (identity: TestIdentity) => ({
      API_KEYS_FILE: apiKeysFile,
      TLS_MODE: 'mtls',
      TLS_CERT_FILE: files[identity]!.certFile,
      TLS_KEY_FILE: files[identity]!.keyFile,
      TLS_CA_FILE: files[identity]!.caFile,
    });
    made = {
      dir,
      apiKeysFile,
      token,
      files: files as Record<TestIdentity, IdentityFiles>,
      env,
      credentials: (identity) => channelCredentials(tlsConfig(configReader(env(identity)))),
      clientOptions: (identity, as = token) => withBearerToken(meshClientOptions(tlsConfig(configReader(env(identity)))), as),
    };
    return made;
  })();
  return pki;
}

/**
 * The admin's client options from the test CA once testPki() has made it (every mesh and test registry start
 * does that first): for maasctl's command functions in tests.
 */
export function adminClient(): ClientOptions {
  if (!made) throw new Error('adminClient() before testPki() finished: start a test registry or mesh first');
  return made.clientOptions('admin');
}
