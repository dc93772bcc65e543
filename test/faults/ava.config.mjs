// The fault tests (npm run test:faults, and the last step of npm test): the root package.json's ava settings,
// these files only, one file at a time. They kill and restart processes under load and time how fast the mesh
// recovers, so they run alone, after the rest of the suite, not beside another file's mesh competing for the
// two cores.
import { readFileSync } from 'node:fs';

const { ava } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));

export default { ...ava, files: ['test/faults/**/*.test.ts'], concurrency: 1 };
