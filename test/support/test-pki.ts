/**
 * The mesh CA for tests: made once per test process in a temp folder (milliseconds: ECDSA P-256), with a
 * certificate for each service and for the admin. Tests run with TLS on, as the services default to.
 */
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type * as grpc from '@grpc/grpc-js';
import { channelCredentials, configReader, ensureLocalPki, meshClientOptions, SERVICE_NAMES, tlsConfig, type ClientOptions, type IdentityFiles } from '@maas/shared';

/** The identities the test CA issues: the four services and the admin. */
export const TEST_IDENTITIES = [...SERVICE_NAMES, 'admin'] as const;
export type TestIdentity = (typeof TEST_IDENTITIES)[number];

export interface TestPki {
  dir: string;
  files: Record<TestIdentity, IdentityFiles>;
  /** TLS_* variables for a service (or admin) of the test mesh. */
  env(identity: TestIdentity): Record<string, string>;
  /** Client credentials presenting `identity`'s certificate. */
  credentials(identity: TestIdentity): grpc.ChannelCredentials;
  /** createClient's options for a client with `identity`'s certificate. */
  clientOptions(identity: TestIdentity): ClientOptions;
}

let pki: Promise<TestPki> | undefined;
let made: TestPki | undefined;

/** The process's test CA (made on first use, removed as the process exits). */
export function testPki(): Promise<TestPki> {
  pki ??= (async () => {
    const dir = fs.mkdtempSync(path.join(tmpdir(), 'maas-pki-'));
    process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
    const { files } = await ensureLocalPki({ dir, identities: TEST_IDENTITIES });
    const env = (identity: TestIdentity) => ({ TLS_MODE: 'mtls', TLS_CERT_FILE: files[identity]!.certFile, TLS_KEY_FILE: files[identity]!.keyFile, TLS_CA_FILE: files[identity]!.caFile });
    made = {
      dir,
      files: files as Record<TestIdentity, IdentityFiles>,
      env,
      credentials: (identity) => channelCredentials(tlsConfig(configReader(env(identity)))),
      clientOptions: (identity) => meshClientOptions(tlsConfig(configReader(env(identity)))),
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
