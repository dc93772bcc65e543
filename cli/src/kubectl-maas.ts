/**
 * `kubectl maas rollout status|promote|abort|pause|resume <name>`: the kubectl plugin for ModelRollouts.
 * kubectl's conventions: -n/--namespace (else the kubeconfig context's namespace, else default), --kubeconfig
 * and --context (else KUBECONFIG / ~/.kube/config / in-cluster, as @kubernetes/client-node loads them),
 * `<kind>/<name>` or plain names, messages like `modelrollout.maas.dev/<name> promoted`, exit 1 on error.
 * The verbs make the same edits as maasctl does locally: promote/abort/resume set the maas.dev/action
 * annotation, pause/resume set spec.paused; the controller acts on them (a JSON merge patch, so nothing else
 * of the object is touched and no status permission is needed).
 */
import { runKubectlMaas } from './kubectl-maas-command.js';

void runKubectlMaas(process.argv.slice(2), { env: process.env, stdout: process.stdout, stderr: process.stderr }).then((code) => {
  process.exitCode = code;
});
