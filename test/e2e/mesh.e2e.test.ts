// The whole mesh as four separate processes of this repository, driven over real gRPC with real NATS, as a
// user would (the assertions: test/support/mesh-e2e-suite.ts; the same ones run over the image in test/image).
import { startLocalMesh } from '@maas/cli';
import test from 'ava';
import { ROOT_DIR } from '../support/example-models.js';
import { defineMeshE2e } from '../support/mesh-e2e-suite.js';

defineMeshE2e(test, {
  start: async (options) => ({ mesh: await startLocalMesh({ rootDir: ROOT_DIR, ports: 'free', ...options }) }),
});
