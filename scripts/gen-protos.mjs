#!/usr/bin/env node
// Generates the TypeScript types of every contract in protos/ into protos/src/generated with
// proto-loader-gen-types. `--check` generates into a temporary folder and fails when the committed files
// differ (drift), so generated code is never edited by hand.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const protoDir = path.join(root, 'protos');
const generatedDir = path.join(protoDir, 'src', 'generated');
// Keep in step with the loader options in protos/src/load.ts: the types must describe what the loader returns.
const loaderFlags = ['--keepCase', '--longs=Number', '--enums=String', '--defaults', '--oneofs', '--grpcLib=@grpc/grpc-js', '--importFileExtension=.js'];

function protoFiles(dir, base = dir) {
  return readdirSync(dir)
    .flatMap((name) => {
      const full = path.join(dir, name);
      if (statSync(full).isDirectory()) return name === 'src' || name === 'node_modules' || name === 'dist' ? [] : protoFiles(full, base);
      return name.endsWith('.proto') ? [path.relative(base, full)] : [];
    })
    .sort();
}

function generate(outDir) {
  const bin = path.join(root, 'node_modules', '.bin', 'proto-loader-gen-types');
  // Relative include dir: the generated headers then name the .proto by its path in the repo, not this machine's.
  execFileSync(bin, [...loaderFlags, '--includeDirs=.', `--outDir=${outDir}`, ...protoFiles(protoDir)], {
    cwd: protoDir,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

function listFiles(dir, base = dir) {
  return readdirSync(dir)
    .flatMap((name) => {
      const full = path.join(dir, name);
      return statSync(full).isDirectory() ? listFiles(full, base) : [path.relative(base, full)];
    })
    .sort();
}

if (process.argv.includes('--check')) {
  const tmp = mkdtempSync(path.join(tmpdir(), 'maas-gen-'));
  try {
    generate(tmp);
    const want = listFiles(tmp);
    let have = [];
    try {
      have = listFiles(generatedDir);
    } catch {
      /* missing folder: everything is drift */
    }
    const drift = [...new Set([...want, ...have])].filter((file) => {
      if (!want.includes(file) || !have.includes(file)) return true;
      return !readFileSync(path.join(tmp, file)).equals(readFileSync(path.join(generatedDir, file)));
    });
    if (drift.length > 0) {
      console.error(
        `gen:check: generated types differ from protos/ in ${drift.length} file(s):\n  ${drift.join('\n  ')}\nRun \`npm run gen\` and commit the result.`,
      );
      process.exit(1);
    }
    console.log(`gen:check: ${want.length} generated files match protos/`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
} else {
  const tmp = mkdtempSync(path.join(tmpdir(), 'maas-gen-'));
  try {
    generate(tmp);
    rmSync(generatedDir, { recursive: true, force: true });
    cpSync(tmp, generatedDir, { recursive: true });
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  console.log(`gen: wrote ${listFiles(generatedDir).length} files to protos/src/generated`);
}
