// The mesh's end-to-end suite (test/support/mesh-e2e-suite.ts) over the container image: each service runs
// from the image's read-only root file system with its Kubernetes manifest's command, user and environment
// (k8s/base + the cpu overlay), on loopback ports, against the NATS server the other tests use.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { MESH_SERVICES, startLocalMesh } from '@maas/cli';
import test from 'ava';
import { ROOT_DIR } from '../support/example-models.js';
import { closeRoots, imageLauncher, imageReference, inspectImage, mountServiceRoots } from '../support/image-root.js';
import { readWorkloads } from '../support/k8s-workloads.js';
import { defineMeshE2e } from '../support/mesh-e2e-suite.js';

const { version } = JSON.parse(readFileSync(path.join(ROOT_DIR, 'package.json'), 'utf8')) as { version: string };
const image = imageReference(version);

defineMeshE2e(test, {
  start: async (options) => {
    const workloads = readWorkloads({ k8sDir: path.join(ROOT_DIR, 'k8s'), overlay: 'cpu', services: MESH_SERVICES });
    const roots = mountServiceRoots({ image, workloads, dataDir: options.dataDir });
    try {
      const launcher = imageLauncher({ image: inspectImage(image), workloads, roots });
      // Loading the first model from a cold image root takes longer than from a warm repository checkout.
      const mesh = await startLocalMesh({ rootDir: ROOT_DIR, ports: 'free', launcher, startTimeoutMs: 120_000, ...options });
      return { mesh, release: async () => closeRoots(roots) };
    } catch (error) {
      closeRoots(roots);
      throw error;
    }
  },
});
