// Runs services from a container image without a container runtime: `podman run` cannot start containers
// on machines that forbid setting rlimits, so the image's own root file system is mounted (buildah from +
// buildah mount), made read-only as readOnlyRootFilesystem makes it, given /proc, /sys, a minimal /dev and
// the manifests' volumes, and each service runs chrooted into it as the manifests' user. Needs root and buildah.
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, closeSync, copyFileSync, mkdirSync, mkdtempSync, openSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { MeshService, ServiceLauncher } from '@maas/cli';
import type { Workload } from './k8s-workloads.js';

/** What the image's configuration says (podman image inspect). */
export interface ImageConfig {
  id: string;
  /** Bytes, as `podman images` counts them (uncompressed layers). */
  size: number;
  user: string;
  env: Record<string, string>;
  workingDir: string;
  cmd: string[];
}

/** The image the checks use: MAAS_IMAGE, else what scripts/image/build-image.sh tags. */
export function imageReference(version: string): string {
  return process.env.MAAS_IMAGE ?? `localhost/maas:${version}`;
}

export function inspectImage(image: string): ImageConfig {
  const [inspected] = JSON.parse(execFileSync('podman', ['image', 'inspect', image], { encoding: 'utf8' })) as {
    Id: string;
    Size: number;
    Config: { User?: string; Env?: string[]; WorkingDir?: string; Cmd?: string[] };
  }[];
  const env = Object.fromEntries((inspected!.Config.Env ?? []).map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]));
  return {
    id: inspected!.Id,
    size: inspected!.Size,
    user: inspected!.Config.User ?? '',
    env,
    workingDir: inspected!.Config.WorkingDir ?? '/',
    cmd: inspected!.Config.Cmd ?? [],
  };
}

export interface ImageRoot {
  /** The mounted root file system, as a service inside sees `/`. */
  path: string;
  /** Each volume: path inside → the host directory bind-mounted there. */
  volumes: Readonly<Record<string, string>>;
  /** Unmounts everything and removes the working container (the volumes' host directories stay). */
  close(): void;
}

const run = (file: string, args: string[]) => execFileSync(file, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();

/** The device nodes a container runtime gives every container (runc's defaults, minus the ttys). */
const DEVICES = ['null', 'zero', 'full', 'random', 'urandom'];

/**
 * Mounts `image`'s root file system for one container: read-only unless asked otherwise, with each
 * `volumes` entry (path inside → host directory) bind-mounted writable over it.
 */
export function mountImageRoot(options: { image: string; readOnly: boolean; volumes?: Record<string, string> }): ImageRoot {
  const container = run('buildah', ['from', '--pull-never', '--quiet', options.image]);
  const mounts: string[] = [];
  let root: string | undefined;
  const close = () => {
    for (const target of mounts.reverse()) run('umount', [target]);
    mounts.length = 0;
    if (root) rmdirSync(root);
    run('buildah', ['rm', container]);
  };
  try {
    const layer = run('buildah', ['mount', container]);
    // Mount points are made in the container's own writable layer, as a runtime does, before the root turns read-only.
    for (const inside of Object.keys(options.volumes ?? {})) mkdirSync(path.join(layer, inside), { recursive: true });
    root = mkdtempSync(path.join(tmpdir(), 'maas-image-root-'));
    const mount = (args: string[], target: string) => {
      run('mount', [...args, target]);
      mounts.push(target);
    };
    mount(['--bind', layer], root);
    if (options.readOnly) run('mount', ['-o', 'remount,bind,ro', root]);
    mount(['-t', 'proc', 'proc'], path.join(root, 'proc'));
    mount(['--bind', '/sys'], path.join(root, 'sys'));
    run('mount', ['-o', 'remount,bind,ro', path.join(root, 'sys')]);
    mount(['-t', 'tmpfs', '-o', 'size=1m,mode=755', 'tmpfs'], path.join(root, 'dev'));
    for (const device of DEVICES) {
      closeSync(openSync(path.join(root, 'dev', device), 'w'));
      mount(['--bind', `/dev/${device}`], path.join(root, 'dev', device));
    }
    for (const [inside, hostDir] of Object.entries(options.volumes ?? {})) mount(['--bind', hostDir], path.join(root, inside));
    return { path: root, volumes: options.volumes ?? {}, close };
  } catch (error) {
    close();
    throw error;
  }
}

/**
 * Mounts one root per service, read-only as its manifest says, each manifest volume backed by a fresh
 * directory under `dataDir` owned by the manifest's user (what fsGroup does for a pod's volumes).
 */
export function mountServiceRoots(options: { image: string; workloads: Record<MeshService, Workload>; dataDir: string }): Record<MeshService, ImageRoot> {
  const roots = {} as Record<MeshService, ImageRoot>;
  try {
    for (const workload of Object.values(options.workloads)) {
      const volumes = Object.fromEntries(
        workload.writablePaths.map((inside) => {
          const hostDir = path.join(options.dataDir, workload.service, inside.replaceAll('/', '_'));
          mkdirSync(hostDir, { recursive: true });
          chownSync(hostDir, workload.runAsUser, workload.runAsGroup);
          return [inside, hostDir];
        }),
      );
      roots[workload.service] = mountImageRoot({ image: options.image, readOnly: workload.readOnlyRootFilesystem, volumes });
    }
    return roots;
  } catch (error) {
    closeRoots(roots);
    throw error;
  }
}

export function closeRoots(roots: Partial<Record<MeshService, ImageRoot>>): void {
  for (const root of Object.values(roots)) root?.close();
}

/**
 * Where the manifests mount each service's TLS Secret (cert-manager's layout), the gateway's API keys Secret
 * and the rollout controller's gateway token Secret.
 */
const TLS_SECRET_DIR = '/etc/maas/tls';
const API_KEYS_SECRET_DIR = '/etc/maas/auth';
const GATEWAY_TOKEN_SECRET_DIR = '/etc/maas/gateway-token';

/**
 * Puts the mesh's certificate files for a service (and the gateway's keys file) into the volumes where the
 * manifests mount their Secrets, readable by the manifest's user only, as a Secret volume with fsGroup is.
 */
function fillSecretVolumes(root: ImageRoot, workload: Workload, files: Record<string, string | undefined>): void {
  const place = (dir: string | undefined, name: string, from: string | undefined) => {
    if (!dir || !from) return;
    const target = path.join(dir, name);
    copyFileSync(from, target);
    chownSync(target, workload.runAsUser, workload.runAsGroup);
    chmodSync(target, 0o440);
  };
  const tls = root.volumes[TLS_SECRET_DIR];
  place(tls, 'tls.crt', files.TLS_CERT_FILE);
  place(tls, 'tls.key', files.TLS_KEY_FILE);
  place(tls, 'ca.crt', files.TLS_CA_FILE);
  place(root.volumes[API_KEYS_SECRET_DIR], 'api-keys.json', files.API_KEYS_FILE);
  place(root.volumes[GATEWAY_TOKEN_SECRET_DIR], 'token', files.GATEWAY_TOKEN_FILE);
}

/**
 * The rollout controller without a cluster: its manifest reads ModelRollouts from the Kubernetes API with
 * leader election; here it reads the local folder (ROLLOUTS_DIR, on its writable /tmp volume) alone.
 */
const LOCAL_ROLLOUTS = { ROLLOUT_SOURCE: 'local', LEADER_ELECTION: 'false', ROLLOUTS_DIR: '/tmp/rollouts' };

/**
 * Starts each service in its root as its manifest does: the manifest's command, user and environment over
 * the image's (Env, WorkingDir). The mesh's wiring replaces the cluster's addresses and ports with loopback
 * ones; the data directories stay the manifests' paths, on the roots' volumes; the certificates (and the
 * gateway's keys, the controller's gateway token) go into the Secret volumes at the manifests' paths, where
 * the services' defaults (or their manifests' env) find them. The rollout controller runs with LOCAL_ROLLOUTS.
 */
export function imageLauncher(options: {
  image: ImageConfig;
  workloads: Record<MeshService, Workload>;
  roots: Record<MeshService, ImageRoot>;
}): ServiceLauncher {
  return (service, wiring) => {
    const workload = options.workloads[service];
    const {
      REGISTRY_DATA_DIR: _registryData,
      MODEL_CACHE_DIR: _modelCache,
      ROLLOUTS_DIR: _rollouts,
      TLS_CERT_FILE,
      TLS_KEY_FILE,
      TLS_CA_FILE,
      API_KEYS_FILE,
      GATEWAY_TOKEN_FILE,
      ...loopback
    } = wiring;
    fillSecretVolumes(options.roots[service], workload, { TLS_CERT_FILE, TLS_KEY_FILE, TLS_CA_FILE, API_KEYS_FILE, GATEWAY_TOKEN_FILE });
    const user = `${workload.runAsUser}:${workload.runAsGroup}`;
    return {
      // chroot and the image's env exec in turn: the service's process is the one spawned (signals, exit code).
      file: 'chroot',
      args: [
        `--userspec=${user}`,
        `--groups=${workload.runAsGroup}`,
        options.roots[service].path,
        'env',
        `--chdir=${options.image.workingDir}`,
        '--',
        ...workload.command,
      ],
      // HEALTH_PORT: the manifests' probe port is one fixed number, which four services on one loopback cannot share.
      env: { ...options.image.env, ...workload.env, ...loopback, ...(service === 'rollout-controller' ? LOCAL_ROLLOUTS : {}), HEALTH_PORT: '-1' },
      cwd: '/',
    };
  };
}
