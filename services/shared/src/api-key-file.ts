/**
 * API keys as the gateway checks them and `maasctl keys` writes them: a JSON file of key records, each with an
 * id, the sha256 of its secret (never the secret), an owner and scopes. A token is `maas_<id>_<secret>`: the id
 * finds the record, the secret's hash is compared in constant time. Revoking marks the record (kept for the
 * audit trail); the gateway rereads the file when it changes.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/** One key as stored. */
export interface ApiKeyRecord {
  /** Public part of the token; names the key in logs, metrics and `maasctl keys revoke`. */
  id: string;
  /** Lowercase hex sha256 of the secret part. */
  sha256: string;
  /** Who the key belongs to (a team, a service): the caller identity limits and logs use. */
  owner: string;
  /**
   * What it may call: `classify:<model>`, `infer:<model>` (ModelInfer and model metadata/readiness), `<kind>:*`
   * for every model, or `*` for everything.
   */
  scopes: string[];
  /** RFC 3339 creation time. */
  created_at: string;
  /** RFC 3339 revocation time; a revoked key is refused. */
  revoked_at?: string;
}

export interface ApiKeyFile {
  keys: ApiKeyRecord[];
}

const TOKEN_PATTERN = /^maas_([a-z0-9]{12})_([A-Za-z0-9_-]{32,})$/;

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Reads a keys file; a missing file is an empty one (no key accepted). Throws on a malformed file. */
export function readApiKeyFile(file: string): ApiKeyFile {
  if (!fs.existsSync(file)) return { keys: [] };
  const parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<ApiKeyFile>;
  if (!parsed || !Array.isArray(parsed.keys)) throw new Error(`${path.basename(file)} has no "keys" array`);
  for (const key of parsed.keys) {
    if (typeof key?.id !== 'string' || typeof key.sha256 !== 'string' || typeof key.owner !== 'string' || !Array.isArray(key.scopes)) {
      throw new Error(`${path.basename(file)}: each key needs id, sha256, owner and scopes`);
    }
  }
  return parsed as ApiKeyFile;
}

/** Writes the file atomically (temp file + rename), readable by this user only: a reader never sees half of it. */
export function writeApiKeyFile(file: string, content: ApiKeyFile): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const temp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temp, `${JSON.stringify(content, null, 2)}\n`, { mode: 0o600 });
  fs.renameSync(temp, file);
}

/** Adds a new key to `file` and returns its token: the only time the secret exists outside the caller's hands. */
export function createApiKey(file: string, options: { owner: string; scopes: readonly string[] }): { token: string; record: ApiKeyRecord } {
  const id = randomBytes(9)
    .toString('base64url')
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '0')
    .slice(0, 12);
  const secret = randomBytes(32).toString('base64url');
  const record: ApiKeyRecord = { id, sha256: sha256Hex(secret), owner: options.owner, scopes: [...options.scopes], created_at: new Date().toISOString() };
  const content = readApiKeyFile(file);
  content.keys.push(record);
  writeApiKeyFile(file, content);
  return { token: `maas_${id}_${secret}`, record };
}

/** Marks key `id` revoked; false when the file has no such key. */
export function revokeApiKey(file: string, id: string): boolean {
  const content = readApiKeyFile(file);
  const key = content.keys.find((candidate) => candidate.id === id);
  if (!key) return false;
  key.revoked_at ??= new Date().toISOString();
  writeApiKeyFile(file, content);
  return true;
}

/** The record a token names, when its secret matches and it is not revoked. */
export function findApiKey(keys: readonly ApiKeyRecord[], token: string): ApiKeyRecord | undefined {
  const match = TOKEN_PATTERN.exec(token);
  if (!match) return undefined;
  const record = keys.find((key) => key.id === match[1]);
  if (!record || record.revoked_at) return undefined;
  const expected = Buffer.from(record.sha256, 'hex');
  const actual = createHash('sha256').update(match[2]!).digest();
  return expected.length === actual.length && timingSafeEqual(expected, actual) ? record : undefined;
}

/** Whether a token looks like an API key (else it is tried as a JWT). */
export function isApiKeyToken(token: string): boolean {
  return token.startsWith('maas_');
}

/** Whether `scopes` allow `kind` (classify, infer) on `model`. */
export function scopeAllows(scopes: readonly string[], kind: string, model: string): boolean {
  return scopes.some((scope) => scope === '*' || scope === `${kind}:*` || scope === `${kind}:${model}`);
}
