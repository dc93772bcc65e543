// maasctl as a library: the command functions (used by tests and the start script) and the CLI runner.
export { UsageError, CliError, describeError } from './cli-errors.js';
export { classify, DEFAULT_GATEWAY_ADDRESS, type ClassifyOptions } from './classify-command.js';
export {
  DEFAULT_REGISTRY_ADDRESS,
  DEFAULT_TIMEOUT_MS,
  DEFAULT_UPLOAD_CHUNK_BYTES,
  listModels,
  promoteCanary,
  registerPackage,
  rollbackCanary,
  setAlias,
  setRollout,
  type RegistryCallOptions,
  type SetAliasOptions,
  type SetRolloutOptions,
} from './registry-commands.js';
export { cliClientOptions, CLI_IDENTITY, localApiKeyFile, localPkiDir } from './cli-credentials.js';
export { runCli, EXIT_ERROR, EXIT_OK, EXIT_USAGE, type CliIo } from './run-cli.js';
export {
  freePort,
  MESH_SERVICES,
  repositoryLauncher,
  STANDARD_PORTS,
  startLocalMesh,
  type LocalMesh,
  type LocalReplica,
  type LocalMeshOptions,
  type MeshService,
  type ServiceCommand,
  type ServiceLauncher,
} from './local-mesh.js';
export { applyRolloutFile, applyLocalVerb, formatRolloutStatus, readLocalRollout, DEFAULT_ROLLOUTS_DIR } from './rollout-documents.js';
export { parseKubectlMaasArgs, runKubectlMaas } from './kubectl-maas-command.js';
