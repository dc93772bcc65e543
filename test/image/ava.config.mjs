// The container image's checks (npm run image:check): the root package.json's ava settings, other files.
// They need the built image (scripts/image/build-image.sh), root and buildah, so `npm test` leaves them out.
import { readFileSync } from 'node:fs';

const { ava } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));

export default { ...ava, files: ['test/image/**/*.test.ts'], concurrency: 1 };
