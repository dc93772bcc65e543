/** Keeps secrets out of logs: credentials in URLs (nats://user:password@host, token@host) become `***`. */

const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/)([^/@\s]+)@/gi;

/** `text` with the user-info part of every URL in it replaced: `nats://user:pass@host` → `nats://***@host`. */
export function redactUrlCredentials(text: string): string {
  return text.replace(URL_CREDENTIALS, '$1***@');
}
