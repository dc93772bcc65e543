import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

export const ROOT_DIR = path.resolve(__dirname, '..', '..');
export const MODEL_REPOSITORY = path.join(ROOT_DIR, 'models', 'dist');

/** Path of an example package; builds the model repository (`npm run models`' step) when it is missing. */
export function examplePackage(model: string, version: string): string {
  const dir = path.join(MODEL_REPOSITORY, model, version);
  if (!existsSync(path.join(dir, 'maas.json'))) {
    const result = spawnSync(process.execPath, [path.join(ROOT_DIR, 'models', 'build', 'cli.js')], { cwd: ROOT_DIR, stdio: 'inherit' });
    if (result.status !== 0 || !existsSync(path.join(dir, 'maas.json'))) throw new Error(`building the example models failed (exit ${result.status})`);
  }
  return dir;
}
