#!/usr/bin/env node
// The installed entry point. It exists before the first build, so `npm ci` links `maasctl` into
// node_modules/.bin on a fresh clone; the command itself is compiled TypeScript (npm run build).
require('../dist/maasctl.js');
