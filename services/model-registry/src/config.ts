import path from 'node:path';
import { configReader, SERVICE_PORTS, serverConfig, type ServerConfig } from '@maas/shared';

const MIB = 1024 * 1024;

export interface RegistryConfig extends ServerConfig {
  /** Folder holding the SQLite database (`registry.db`) and the artifact blobs (`blobs/sha256/...`); absolute. */
  dataDir: string;
  /** Largest package a registration may upload (sum of its files), in bytes. */
  maxPackageBytes: number;
  /** Largest single file of a package, in bytes. */
  maxFileBytes: number;
  /** Size of the chunks DownloadArtifact streams, in bytes. */
  downloadChunkBytes: number;
}

/** Reads the registry's configuration; throws ConfigError naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, options: { cwd?: string } = {}): Readonly<RegistryConfig> {
  const reader = configReader(env);
  const server = serverConfig(reader, SERVICE_PORTS['model-registry']);
  const dataDir = reader.string('REGISTRY_DATA_DIR', {
    default: '.maas/registry',
    doc: 'folder for the SQLite database and artifact blobs (relative to the working directory)',
  });
  const maxPackageBytes = reader.int('MAX_PACKAGE_BYTES', { default: 512 * MIB, min: 1, doc: 'largest package a registration may upload, in bytes' });
  const maxFileBytes = reader.int('MAX_FILE_BYTES', {
    default: maxPackageBytes,
    min: 1,
    doc: 'largest single package file, in bytes (default: MAX_PACKAGE_BYTES)',
  });
  // Chunks stay far below the gRPC message limit (64 MiB) and big enough that per-message overhead is noise.
  const downloadChunkBytes = reader.int('DOWNLOAD_CHUNK_BYTES', {
    default: 256 * 1024,
    min: 1024,
    max: 4 * MIB,
    doc: 'chunk size of artifact downloads, in bytes',
  });
  return reader.done({ ...server, dataDir: path.resolve(options.cwd ?? process.cwd(), dataDir), maxPackageBytes, maxFileBytes, downloadChunkBytes });
}
