import fs from 'node:fs';
import path from 'node:path';

/**
 * The `version` of the package.json in `packageDir` (a service passes `path.join(__dirname, '..')` from its
 * dist/ or src/ folder): what ServerMetadata reports. '0.0.0' when it cannot be read, which only happens in a
 * broken install and must not stop the service.
 */
export function packageVersion(packageDir: string): string {
  try {
    return (JSON.parse(fs.readFileSync(path.join(packageDir, 'package.json'), 'utf8')) as { version?: string }).version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}
