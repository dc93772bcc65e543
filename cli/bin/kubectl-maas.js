#!/usr/bin/env node
// kubectl plugin entry point: on the PATH as `kubectl-maas`, kubectl runs it for `kubectl maas ...`.
// The command itself is compiled TypeScript (npm run build).
require('../dist/kubectl-maas.js');
