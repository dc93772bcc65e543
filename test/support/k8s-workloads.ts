// What the Kubernetes manifests tell a maas container: its command, its environment, who it runs as and
// where it may write. Read from k8s/base (workloads, the ConfigMaps their envFrom names, the pod-defaults
// patch) plus one overlay's ConfigMap literals, and the rollout controller's from k8s/components/rollouts, so
// that a check of the image starts each process as the cluster would, without a cluster. Offline, with no
// kustomize: only the parts of kustomize the base and that component use.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { MESH_SERVICES, type MeshService } from '@maas/cli';
import { parse, parseAllDocuments } from 'yaml';

export interface Workload {
  service: MeshService;
  /** The container's command (the image's entrypoint is not used). */
  command: string[];
  /** envFrom ConfigMaps, then env (fieldRefs filled in as the kubelet would, `$(VAR)` expanded). */
  env: Record<string, string>;
  /** volumeMounts: the only writable paths of a read-only root file system. */
  writablePaths: string[];
  runAsUser: number;
  runAsGroup: number;
  readOnlyRootFilesystem: boolean;
}

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { fieldRef?: { fieldPath: string }; secretKeyRef?: { name: string; key: string; optional?: boolean } };
}
interface Container {
  name: string;
  command: string[];
  env?: EnvVar[];
  envFrom?: { configMapRef?: { name: string } }[];
  volumeMounts?: { mountPath: string }[];
  securityContext?: { readOnlyRootFilesystem?: boolean };
}
interface PatchOp {
  op: string;
  path: string;
  value: unknown;
}
interface ConfigMapGenerator {
  name: string;
  envs?: string[];
  literals?: string[];
}

/** `KEY=value` lines (a kustomize env file or literals); comments and blank lines skipped. */
function keyValues(lines: string[]): Record<string, string> {
  const entries = lines.map((line) => line.trim()).filter((line) => line && !line.startsWith('#'));
  return Object.fromEntries(entries.map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]));
}

/** The ConfigMaps of a kustomization's generators, with `behavior: merge` layers from the overlay on top. */
function configMaps(dirs: string[]): Map<string, Record<string, string>> {
  const maps = new Map<string, Record<string, string>>();
  for (const dir of dirs) {
    const kustomization = parse(readFileSync(path.join(dir, 'kustomization.yaml'), 'utf8')) as { configMapGenerator?: ConfigMapGenerator[] };
    for (const generator of kustomization.configMapGenerator ?? []) {
      const data = { ...maps.get(generator.name) };
      for (const file of generator.envs ?? []) Object.assign(data, keyValues(readFileSync(path.join(dir, file), 'utf8').split('\n')));
      Object.assign(data, keyValues(generator.literals ?? []));
      maps.set(generator.name, data);
    }
  }
  return maps;
}

/** Kubernetes' `$(VAR)` expansion in env values: earlier variables only; unknown references stay as written. */
function expand(value: string, env: Record<string, string>): string {
  return value.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (whole, name: string) => env[name] ?? whole);
}

interface WorkloadObject {
  kind: string;
  metadata: { name: string };
  spec: { template: { spec: { containers: Container[]; securityContext?: { runAsUser: number; runAsGroup: number } } } };
}

/**
 * The services' workloads as `k8sDir/base` plus `k8sDir/overlays/<overlay>`'s ConfigMap changes define them,
 * and those of `components` (folders below `k8sDir`, e.g. components/rollouts for the rollout controller).
 * The base's pod-defaults patch applies to the base's workloads only, as kustomize applies a base's patches
 * before an overlay adds components: a component's workload states its own security contexts.
 */
export function readWorkloads(options: {
  k8sDir: string;
  overlay: string;
  services: readonly MeshService[];
  components?: readonly string[];
}): Record<MeshService, Workload> {
  const base = path.join(options.k8sDir, 'base');
  const kustomization = parse(readFileSync(path.join(base, 'kustomization.yaml'), 'utf8')) as { namespace: string; resources: string[] };
  const maps = configMaps([base, path.join(options.k8sDir, 'overlays', options.overlay)]);
  const patch = parse(readFileSync(path.join(base, 'pod-defaults.yaml'), 'utf8')) as PatchOp[];
  const defaults = {
    podSecurity: patch.find((op) => op.path === '/spec/template/spec/securityContext')?.value as { runAsUser: number; runAsGroup: number },
    containerSecurity: patch.find((op) => op.path === '/spec/template/spec/containers/0/securityContext')?.value as Container['securityContext'],
    env: patch.filter((op) => op.path === '/spec/template/spec/containers/0/env/-').map((op) => op.value as EnvVar),
  };
  const sources = [
    { dir: base, resources: kustomization.resources, patched: true },
    ...(options.components ?? []).map((component) => {
      const dir = path.join(options.k8sDir, component);
      return { dir, resources: (parse(readFileSync(path.join(dir, 'kustomization.yaml'), 'utf8')) as { resources: string[] }).resources, patched: false };
    }),
  ];

  const workloads = {} as Record<MeshService, Workload>;
  for (const source of sources) {
    for (const file of source.resources) {
      for (const document of parseAllDocuments(readFileSync(path.join(source.dir, file), 'utf8'))) {
        const object = document.toJS() as WorkloadObject;
        if (object.kind !== 'Deployment' && object.kind !== 'StatefulSet') continue;
        const container = object.spec.template.spec.containers[0]!;
        const service = options.services.find((name) => name === container.name);
        if (!service) continue;
        const env: Record<string, string> = {};
        for (const from of container.envFrom ?? []) {
          const data = maps.get(from.configMapRef!.name);
          if (!data) throw new Error(`${file}: envFrom names ConfigMap ${from.configMapRef!.name}, which no generator makes`);
          Object.assign(env, data);
        }
        const fields: Record<string, string> = {
          'metadata.name': `${object.metadata.name}-0`,
          'metadata.namespace': kustomization.namespace,
          'spec.nodeName': 'node-0',
          'status.podIP': '127.0.0.1',
        };
        for (const variable of [...(container.env ?? []), ...(source.patched ? defaults.env : [])]) {
          const secret = variable.valueFrom?.secretKeyRef;
          if (secret) {
            // No Secret exists here (the repo holds none): an optional one is left unset, as Kubernetes does when the
            // Secret is missing; a required one is a workload these tests cannot run.
            if (secret.optional) continue;
            throw new Error(`${file}: env ${variable.name} needs key ${secret.key} of Secret ${secret.name}, which these tests do not have`);
          }
          const value = variable.valueFrom?.fieldRef ? fields[variable.valueFrom.fieldRef.fieldPath] : variable.value;
          if (value === undefined) throw new Error(`${file}: env ${variable.name} has neither a value nor a known fieldRef`);
          env[variable.name] = expand(value, env);
        }
        const podSecurity = source.patched ? defaults.podSecurity : object.spec.template.spec.securityContext;
        const containerSecurity = source.patched ? defaults.containerSecurity : container.securityContext;
        if (!podSecurity) throw new Error(`${file}: ${service} has no pod securityContext`);
        workloads[service] = {
          service,
          command: container.command,
          env,
          writablePaths: (container.volumeMounts ?? []).map((mount) => mount.mountPath),
          runAsUser: podSecurity.runAsUser,
          runAsGroup: podSecurity.runAsGroup,
          readOnlyRootFilesystem: containerSecurity?.readOnlyRootFilesystem === true,
        };
      }
    }
  }
  const missing = options.services.filter((service) => !workloads[service]);
  if (missing.length > 0) throw new Error(`neither k8s/base nor the components read have a workload for ${missing.join(', ')}`);
  return workloads;
}

/** Every mesh process's workload as the cpu overlay deploys it, the rollout controller with the rollouts component. */
export function readMeshWorkloads(rootDir: string): Record<MeshService, Workload> {
  return readWorkloads({ k8sDir: path.join(rootDir, 'k8s'), overlay: 'cpu', services: MESH_SERVICES, components: ['components/rollouts'] });
}
