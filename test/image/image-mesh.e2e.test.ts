// The mesh's end-to-end suite (test/support/mesh-e2e-suite.ts) over the container image: each service and
// the rollout controller run from the image's read-only root file system with their Kubernetes manifests'
// command, user and environment (k8s/base + the cpu overlay; the controller's from k8s/components/rollouts,
// with its local rollout source), over mTLS on loopback ports, against the NATS server the other tests use.
// The mesh starts only once every process, the controller included, reports SERVING on grpc.health.v1.
import { readFileSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import { MESH_SERVICES, startLocalMesh, type MeshService } from '@maas/cli';
import test from 'ava';
import { ROOT_DIR } from '../support/example-models.js';
import { closeRoots, imageLauncher, imageReference, inspectImage, mountServiceRoots, type ImageRoot } from '../support/image-root.js';
import { readMeshWorkloads, type Workload } from '../support/k8s-workloads.js';
import { defineMeshE2e } from '../support/mesh-e2e-suite.js';

const { version } = JSON.parse(readFileSync(path.join(ROOT_DIR, 'package.json'), 'utf8')) as { version: string };
const image = imageReference(version);
const workloads: Record<MeshService, Workload> = readMeshWorkloads(ROOT_DIR);
let roots: Record<MeshService, ImageRoot> | undefined;

/** A field of /proc/<pid>/status, e.g. `Uid:	10001	10001	10001	10001`. */
const statusField = (pid: number, field: string) =>
  readFileSync(`/proc/${pid}/status`, 'utf8')
    .match(new RegExp(`^${field}:\\s+(.*)$`, 'm'))?.[1]
    ?.split(/\s+/);

defineMeshE2e(test, {
  start: async (options) => {
    roots = mountServiceRoots({ image, workloads, dataDir: options.dataDir });
    try {
      const launcher = imageLauncher({ image: inspectImage(image), workloads, roots });
      // More than the default 60 s: a first start from a fresh image mount reads every file cold, on a busy machine.
      const mesh = await startLocalMesh({ rootDir: ROOT_DIR, ports: 'free', launcher, startTimeoutMs: 120_000, ...options });
      return { mesh, release: async () => closeRoots(roots!) };
    } catch (error) {
      closeRoots(roots);
      throw error;
    }
  },
  whileRunning: [
    {
      title: "each service and the rollout controller run the image's node in their own image roots, as the manifests' user",
      run: (t, mesh) => {
        for (const service of MESH_SERVICES) {
          const pid = mesh.processes[service].pid!;
          const root = roots![service].path;
          t.is(readlinkSync(`/proc/${pid}/root`), root, `${service}'s root`);
          t.is(readlinkSync(`/proc/${pid}/exe`), path.join(root, 'usr/local/bin/node'), `${service}'s executable`);
          t.deepEqual(statusField(pid, 'Uid'), Array(4).fill(String(workloads[service].runAsUser)), `${service}'s uids`);
          t.deepEqual(statusField(pid, 'Gid'), Array(4).fill(String(workloads[service].runAsGroup)), `${service}'s gids`);
        }
      },
    },
  ],
});
