// A fresh `npm ci` and every `npm`/`npx` call must print no warning a user has to learn to ignore. These
// checks read what npm itself reads (the lockfile, package.json, the project config) and fail, naming the
// package, when a dependency change would bring one of those warnings back.
import test from 'ava';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import semver from 'semver';

const root = join(__dirname, '..', '..');
const readJson = (file: string): any => JSON.parse(readFileSync(join(root, file), 'utf8'));

interface LockedPackage {
  version?: string;
  engines?: { node?: string };
  hasInstallScript?: boolean;
  link?: boolean;
}

function lockedPackages(): [path: string, pkg: LockedPackage][] {
  const lock = readJson('package-lock.json') as { packages: Record<string, LockedPackage> };
  return Object.entries(lock.packages).filter(([path, pkg]) => path.includes('node_modules/') && !pkg.link);
}

/** "node_modules/a/node_modules/@s/b" → "@s/b" */
function packageName(path: string): string {
  return path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);
}

test('every locked package accepts this Node (npm ci would warn EBADENGINE otherwise)', (t) => {
  const refused = lockedPackages()
    .filter(([, pkg]) => pkg.engines?.node && !semver.satisfies(process.version, pkg.engines.node))
    .map(([path, pkg]) => `${packageName(path)}@${pkg.version} wants node ${pkg.engines?.node}`);
  t.deepEqual(refused, [], `on ${process.version}; pin a version that accepts it with "overrides" in package.json`);
});

test('every install script is approved or denied in allowScripts (npm ci would list it otherwise)', (t) => {
  const allowScripts = (readJson('package.json').allowScripts ?? {}) as Record<string, boolean>;
  const covered = (name: string, version?: string): boolean => name in allowScripts || (version !== undefined && `${name}@${version}` in allowScripts);
  const unreviewed = lockedPackages()
    .filter(([path, pkg]) => pkg.hasInstallScript && !covered(packageName(path), pkg.version))
    .map(([path, pkg]) => `${packageName(path)}@${pkg.version}`);
  t.deepEqual(unreviewed, [], 'review the script, then `npm approve-scripts <pkg>` or `npm deny-scripts <pkg>`');
  // onnxruntime-node's script only downloads the CUDA provider libraries (hundreds of MB from NuGet); the
  // package ships the CPU provider. The GPU image runs the script on purpose (see the Dockerfile).
  t.is(allowScripts['onnxruntime-node'], false);
});

test('npm reads the project config without a warning', async (t) => {
  // `npm prefix` loads every config layer (project .npmrc included) and prints one line; an unknown key
  // in a project .npmrc is reported as "npm warn Unknown project config".
  const { stdout, stderr } = await promisify(execFile)('npm', ['prefix'], { cwd: root });
  t.is(stdout.trim(), root);
  t.is(stderr, '');
});
