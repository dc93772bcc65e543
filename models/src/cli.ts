#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { buildModelRepository, DEFAULT_DATA_DIR, DEFAULT_OUT_DIR } from './build-repository.js';
import { verifyModelPackage } from './package/model-package.js';

const USAGE = `usage:
  node models/build/cli.js [--out DIR] [--data DIR]   build the example model repository
  node models/build/cli.js verify PACKAGE_DIR...      check packages (manifest, files, sha256)

  --out   repository root, packages go to DIR/<model>/<version>/ (default: models/dist)
  --data  folder with train.jsonl and test.jsonl (default: models/sentiment/data)`;

async function verify(dirs: string[]): Promise<number> {
  let failed = 0;
  for (const dir of dirs) {
    const { manifest, problems } = await verifyModelPackage(dir);
    if (problems.length === 0) {
      console.log(`ok   ${dir}: ${manifest!.name}/${manifest!.version}, ${manifest!.files.length} files`);
    } else {
      failed++;
      console.log(`FAIL ${dir}`);
      for (const p of problems) console.log(`  - ${p}`);
    }
  }
  return failed === 0 ? 0 : 1;
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { out: { type: 'string' }, data: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    allowPositionals: true,
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (positionals[0] === 'verify') {
    if (positionals.length < 2) {
      console.error(USAGE);
      return 2;
    }
    return verify(positionals.slice(1));
  }
  if (positionals.length > 0) {
    console.error(USAGE);
    return 2;
  }
  await buildModelRepository({
    outDir: values.out ?? DEFAULT_OUT_DIR,
    dataDir: values.data ?? DEFAULT_DATA_DIR,
    log: (line) => console.log(line),
  });
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  },
);
