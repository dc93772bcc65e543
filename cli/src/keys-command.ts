/** `maasctl keys`: the gateway's API keys file, written here and read by the gateway (which rereads it on change). */
import path from 'node:path';
import { createApiKey, readApiKeyFile, revokeApiKey } from '@maas/shared';
import { CliError, UsageError } from './cli-errors.js';
import { localPkiDir } from './cli-credentials.js';
import { formatTable } from './output-format.js';

/** The keys file: --keys-file, MAAS_API_KEYS_FILE, or the one npm start made (next to its certificates). */
export function apiKeysFile(option: string | undefined, env: NodeJS.ProcessEnv): string {
  return option ?? (env.MAAS_API_KEYS_FILE?.trim() || path.join(env.MAAS_PKI_DIR?.trim() || localPkiDir(path.resolve('.maas')), 'api-keys.json'));
}

export function runKeysCommand(options: { action: string | undefined; args: string[]; owner?: string; scopes?: string; file: string }): string {
  switch (options.action) {
    case 'create': {
      if (!options.owner) throw new UsageError('keys create needs --owner');
      const scopes = (options.scopes ?? '')
        .split(',')
        .map((scope) => scope.trim())
        .filter(Boolean);
      if (scopes.length === 0) throw new UsageError('keys create needs --scopes (e.g. classify:sentiment,infer:*)');
      const bad = scopes.find((scope) => scope !== '*' && !/^(classify|infer):[^\s,]+$/.test(scope));
      if (bad) throw new UsageError(`unknown scope ${JSON.stringify(bad)}: use classify:<model>, infer:<model>, <kind>:* or *`);
      const { token, record } = createApiKey(options.file, { owner: options.owner, scopes });
      return `created key ${record.id} for ${record.owner} (${scopes.join(', ')})\ntoken (shown once; send it as "authorization: Bearer <token>"):\n${token}`;
    }
    case 'revoke': {
      const id = options.args[0];
      if (!id || options.args.length > 1) throw new UsageError('keys revoke takes one key id');
      if (!revokeApiKey(options.file, id)) throw new CliError(`no key ${JSON.stringify(id)} in ${options.file}`);
      return `revoked key ${id}`;
    }
    case 'list': {
      const { keys } = readApiKeyFile(options.file);
      if (keys.length === 0) return `no keys in ${options.file}`;
      return formatTable(
        ['ID', 'OWNER', 'SCOPES', 'CREATED', 'REVOKED'],
        keys.map((key) => [key.id, key.owner, key.scopes.join(','), key.created_at, key.revoked_at ?? '-']),
      );
    }
    default:
      throw new UsageError('keys takes create, revoke or list');
  }
}
