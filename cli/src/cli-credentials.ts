/**
 * The credentials maasctl presents: the local admin certificate and API key `npm start` made (`.maas/pki/admin/`
 * in the folder maasctl runs from, or MAAS_PKI_DIR; MAAS_API_KEY overrides the key), so that `npm start` then `npx maasctl ...` needs no setup.
 * MAAS_TLS_MODE=plaintext talks to a mesh started with TLS_MODE=plaintext.
 */
import fs from 'node:fs';
import path from 'node:path';
import { configReader, identityFiles, meshClientOptions, tlsConfig, withBearerToken, type ClientOptions } from '@maas/shared';
import { CliError } from './cli-errors.js';

/** The identity maasctl uses: registry writes are the admin's alone. */
export const CLI_IDENTITY = 'admin';

/** Where `npm start` keeps its CA and certificates, below its data folder. */
export function localPkiDir(dataDir: string): string {
  return path.join(dataDir, 'pki');
}

/** createClient options for maasctl under `env` (MAAS_TLS_MODE, MAAS_PKI_DIR). */
export function cliClientOptions(env: NodeJS.ProcessEnv): ClientOptions {
  if (env.MAAS_TLS_MODE?.trim() === 'plaintext') return {};
  const dir = env.MAAS_PKI_DIR?.trim() || localPkiDir(path.resolve('.maas'));
  const files = identityFiles(dir, CLI_IDENTITY);
  if (!fs.existsSync(files.certFile)) {
    throw new CliError(
      `no admin credential at ${files.certFile}: run npm start once (it makes one), set MAAS_PKI_DIR to the folder holding admin/tls.crt, or MAAS_TLS_MODE=plaintext for a plaintext mesh`,
    );
  }
  const options = meshClientOptions(tlsConfig(configReader({ TLS_CERT_FILE: files.certFile, TLS_KEY_FILE: files.keyFile, TLS_CA_FILE: files.caFile })));
  const token = env.MAAS_API_KEY?.trim() || readTokenFile(localApiKeyFile(dir));
  return token ? withBearerToken(options, token) : options;
}

/** Where npm start keeps the local admin's API key (the token itself, readable by this user only). */
export function localApiKeyFile(pkiDir: string): string {
  return path.join(pkiDir, CLI_IDENTITY, 'api-key');
}

function readTokenFile(file: string): string | undefined {
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trim() || undefined : undefined;
}
