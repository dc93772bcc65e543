// What the Kubernetes manifests tell a maas container: its command, its environment, who it runs as and
// where it may write. Read from k8s/base (workloads, the ConfigMaps their envFrom names, the pod-defaults
// patch) plus one overlay's ConfigMap literals, so that a check of the image starts each service as the
// cluster would, without a cluster. Offline, with no kustomize: only the parts of kustomize the base uses.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { MeshService } from '@maas/cli';
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
  valueFrom?: { fieldRef?: { fieldPath: string } };
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

/** The four services' workloads as `k8sDir/base` plus `k8sDir/overlays/<overlay>`'s ConfigMap changes define them. */
export function readWorkloads(options: { k8sDir: string; overlay: string; services: readonly MeshService[] }): Record<MeshService, Workload> {
  const base = path.join(options.k8sDir, 'base');
  const kustomization = parse(readFileSync(path.join(base, 'kustomization.yaml'), 'utf8')) as { namespace: string; resources: string[] };
  const maps = configMaps([base, path.join(options.k8sDir, 'overlays', options.overlay)]);
  const patch = parse(readFileSync(path.join(base, 'pod-defaults.yaml'), 'utf8')) as PatchOp[];
  const podSecurity = patch.find((op) => op.path === '/spec/template/spec/securityContext')?.value as { runAsUser: number; runAsGroup: number };
  const containerSecurity = patch.find((op) => op.path === '/spec/template/spec/containers/0/securityContext')?.value as Container['securityContext'];
  const patchedEnv = patch.filter((op) => op.path === '/spec/template/spec/containers/0/env/-').map((op) => op.value as EnvVar);

  const workloads = {} as Record<MeshService, Workload>;
  for (const file of kustomization.resources) {
    for (const document of parseAllDocuments(readFileSync(path.join(base, file), 'utf8'))) {
      const object = document.toJS() as { kind: string; metadata: { name: string }; spec: { template: { spec: { containers: Container[] } } } };
      if (object.kind !== 'Deployment' && object.kind !== 'StatefulSet') continue;
      const container = object.spec.template.spec.containers[0]!;
      const service = options.services.find((name) => name === container.name);
      if (!service) continue;
      const env: Record<string, string> = {};
      for (const source of container.envFrom ?? []) {
        const data = maps.get(source.configMapRef!.name);
        if (!data) throw new Error(`${file}: envFrom names ConfigMap ${source.configMapRef!.name}, which no generator makes`);
        Object.assign(env, data);
      }
      const fields: Record<string, string> = { 'metadata.name': `${object.metadata.name}-0`, 'metadata.namespace': kustomization.namespace, 'spec.nodeName': 'node-0', 'status.podIP': '127.0.0.1' };
      for (const variable of [...(container.env ?? []), ...patchedEnv]) {
        const value = variable.valueFrom?.fieldRef ? fields[variable.valueFrom.fieldRef.fieldPath] : variable.value;
        if (value === undefined) throw new Error(`${file}: env ${variable.name} has neither a value nor a known fieldRef`);
        env[variable.name] = expand(value, env);
      }
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
  const missing = options.services.filter((service) => !workloads[service]);
  if (missing.length > 0) throw new Error(`k8s/base has no workload for ${missing.join(', ')}`);
  return workloads;
}
