// What the built image holds and how it is configured, checked on its own root file system: it runs as the
// manifests' non-root user, holds only what runs (no sources, tests, compilers, npm or npm cache, no dev
// dependencies), its code is not writable by the service, and it stays under its size budget.
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import anyTest, { type TestFn } from 'ava';
import { ROOT_DIR } from '../support/example-models.js';
import { imageReference, inspectImage, mountImageRoot, type ImageConfig, type ImageRoot } from '../support/image-root.js';
import { readMeshWorkloads } from '../support/k8s-workloads.js';

/** Decimal megabytes, as `podman images` prints sizes. Measured 298 MB on the offline Debian 13 base. */
const SIZE_BUDGET_MB = Number(process.env.MAAS_IMAGE_SIZE_BUDGET_MB ?? 320);

const packageJson = JSON.parse(readFileSync(path.join(ROOT_DIR, 'package.json'), 'utf8')) as { version: string; workspaces: string[] };
/** Installed only for development (the lockfile's `dev` flag: devDependencies and what only they need). */
const devOnly = Object.entries(
  (JSON.parse(readFileSync(path.join(ROOT_DIR, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> }).packages,
)
  .filter(([location, entry]) => entry.dev && location.startsWith('node_modules/'))
  .map(([location]) => `/app/${location}`);
const workloads = readMeshWorkloads(ROOT_DIR);

const test = anyTest as TestFn<{ config: ImageConfig; root: ImageRoot; files: string[] }>;

/** Every path below `dir` (relative to the root, starting with /), directories included; symlinks not followed. */
function walk(root: string, dir: string, into: string[] = []): string[] {
  for (const entry of readdirSync(path.join(root, dir), { withFileTypes: true })) {
    const relative = path.posix.join(dir, entry.name);
    into.push(relative);
    if (entry.isDirectory()) walk(root, relative, into);
  }
  return into;
}

test.before((t) => {
  const image = imageReference(packageJson.version);
  const root = mountImageRoot({ image, readOnly: true });
  t.context = { config: inspectImage(image), root, files: walk(root.path, '/app') };
});
test.after.always((t) => t.context.root?.close());

test('its size is printed and within the budget', (t) => {
  const megabytes = t.context.config.size / 1e6;
  t.log(`image ${t.context.config.id.slice(0, 12)}: ${megabytes.toFixed(1)} MB (budget ${SIZE_BUDGET_MB} MB)`);
  t.true(megabytes <= SIZE_BUDGET_MB, `${megabytes.toFixed(1)} MB is over the ${SIZE_BUDGET_MB} MB budget`);
});

test("it runs as the manifests' numeric non-root user, in /app, with the production environment", (t) => {
  const { config } = t.context;
  for (const workload of Object.values(workloads)) t.is(config.user, `${workload.runAsUser}:${workload.runAsGroup}`, workload.service);
  t.not(workloads.gateway.runAsUser, 0);
  t.is(config.workingDir, '/app');
  t.is(config.env.NODE_ENV, 'production');
  t.deepEqual(config.cmd, workloads.gateway.command, "the image's default command is the gateway's manifest command");
});

test('it holds no TypeScript, tests or sources of the workspaces, and only runtime workspaces', (t) => {
  const { files } = t.context;
  t.deepEqual(
    files.filter((file) => /\.(ts|mts|cts|tsx)$/.test(file)),
    [],
    'TypeScript files (sources or declarations)',
  );
  const workspaces = files.filter((file) => existsSync(path.join(t.context.root.path, file, 'package.json')) && !file.includes('/node_modules/'));
  const runtimeWorkspaces = packageJson.workspaces.filter((workspace) => !['models', 'cli'].includes(workspace));
  t.deepEqual(workspaces.sort(), runtimeWorkspaces.map((workspace) => `/app/${workspace}`).sort(), 'every workspace but models and cli');
  const outsideDependencies = files.filter((file) => !file.includes('/node_modules/'));
  t.deepEqual(
    outsideDependencies.filter((file) => /\/(src|test|tests|scratch)$/.test(file) || /\.test\.js$/.test(file)),
    [],
    'sources or tests',
  );
  t.false(files.includes('/app/models') || files.includes('/app/cli'), 'the model training workspace and the CLI stay behind');
});

test('it holds no dev dependency, compiler, npm or npm cache', (t) => {
  const { files, root } = t.context;
  t.true(devOnly.length > 0);
  t.deepEqual(
    devOnly.filter((location) => files.includes(location)),
    [],
    'development-only packages',
  );
  const onPath = (t.context.config.env.PATH ?? '').split(':');
  for (const tool of ['npm', 'npx', 'corepack', 'yarn', 'gcc', 'g++', 'cc', 'c++', 'make', 'python3', 'tsc', 'node-gyp']) {
    t.deepEqual(
      onPath.filter((dir) => existsSync(path.join(root.path, dir, tool))),
      [],
      `${tool} on PATH`,
    );
  }
  for (const dir of ['/usr/lib/node_modules/npm', '/usr/share/nodejs/npm', '/usr/local/lib/node_modules/npm', '/root/.npm', '/app/.npm'])
    t.false(existsSync(path.join(root.path, dir)), dir);
  t.deepEqual(
    files.filter((file) => file.endsWith('/_cacache')),
    [],
    'npm cache directories',
  );
  t.deepEqual(readdirSync(path.join(root.path, 'tmp')), [], '/tmp is empty');
});

test('its code belongs to root and is not writable by the service user', (t) => {
  const writable = t.context.files.filter((file) => {
    const stat = lstatSync(path.join(t.context.root.path, file));
    return !stat.isSymbolicLink() && (stat.uid !== 0 || (stat.mode & 0o022) !== 0);
  });
  t.deepEqual(writable.slice(0, 10), [], `${writable.length} files under /app not owned by root or writable by group/others`);
});

test('its SBOM (npm run image:build) lists exactly the npm packages installed in it, each with a declared licence', (t) => {
  const { files, root, config } = t.context;
  const built = path.join(ROOT_DIR, '.maas', 'image', `maas-${packageJson.version}`);
  t.regex(readFileSync(`${built}-image.txt`, 'utf8'), new RegExp(`^id sha256:${config.id}$`, 'm'), 'the SBOM was made from this image');
  const sbom = JSON.parse(readFileSync(`${built}.cdx.json`, 'utf8')) as { components: { properties?: { name: string; value: string }[] }[] };
  const listed = sbom.components.map((component) => component.properties?.find((property) => property.name === 'cdx:npm:package:path')?.value);
  // A package is a directory right below a node_modules (or its @scope) holding a package.json, or a workspace's link.
  const installed = files
    .filter((file) => /\/node_modules\/(@[^/]+\/)?[^/@.][^/]*$/.test(file))
    .filter((file) => files.includes(`${file}/package.json`) || lstatSync(path.join(root.path, file)).isSymbolicLink())
    .map((file) => file.slice('/app/'.length));
  t.deepEqual([...listed].sort(), [...installed].sort());
  const licences = readFileSync(`${built}-licences.tsv`, 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => line.split('\t'));
  t.true(licences.length > 100, `${licences.length} packages in the licence list`);
  t.deepEqual(
    licences.filter(([, , licence]) => licence === 'UNDECLARED'),
    [],
  );
});

test('its node runs the native addons as the service user on the read-only root, and nothing can write there', (t) => {
  const { root, config } = t.context;
  const script = [
    "const Database = require('better-sqlite3');",
    "const ort = require('onnxruntime-node');",
    "const fs = require('node:fs');",
    "let write = 'written';",
    "try { fs.writeFileSync('/app/probe', ''); } catch (error) { write = error.code; }",
    "console.log(JSON.stringify({ uid: process.getuid(), node: process.version, sqlite: new Database(':memory:').prepare('select sqlite_version() v').get().v, ort: Object.keys(ort).includes('InferenceSession'), write }));",
  ].join(' ');
  const { runAsUser, runAsGroup } = workloads.gateway;
  const result = spawnSync(
    'chroot',
    [`--userspec=${runAsUser}:${runAsGroup}`, `--groups=${runAsGroup}`, root.path, 'env', `--chdir=${config.workingDir}`, '--', 'node', '-e', script],
    {
      env: config.env,
      encoding: 'utf8',
    },
  );
  t.is(result.status, 0, result.stderr);
  const report = JSON.parse(result.stdout) as { uid: number; node: string; sqlite: string; ort: boolean; write: string };
  t.log(`in the image: node ${report.node}, SQLite ${report.sqlite}`);
  t.is(report.uid, runAsUser);
  t.regex(report.node, /^v20\./);
  t.true(report.ort);
  t.is(report.write, 'EROFS');
});
