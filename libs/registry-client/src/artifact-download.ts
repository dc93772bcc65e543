/**
 * Downloads one artifact from the registry's DownloadArtifact stream and verifies it on the way: the digest
 * the registry announces (first chunk) against the one expected, a running cap on the bytes accepted, then
 * the sha256 and size of what actually arrived. Every consumer that fetches artifacts (tokenizer files, model
 * files) goes through here, so a damaged or substituted artifact is refused the same way everywhere.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { pipeline } from 'node:stream/promises';
import * as grpc from '@grpc/grpc-js';
import type { ArtifactChunk__Output, ModelRegistryClient } from '@maas/protos';
import { GrpcError } from '@maas/shared';

/** A file's content digest, as the registry lists it (Artifact, FileDigest). */
export interface ArtifactDigest {
  sha256: string;
  size_bytes: number;
}

/** Where the bytes go: kept in memory, or written to `file` (removed again when the download fails). */
export type ArtifactSink = 'buffer' | { file: string };

export interface DownloadArtifactOptions {
  registry: ModelRegistryClient;
  request: { model: string; version: string; path: string };
  /** Deadline of the whole download: a Date, or milliseconds from now. */
  deadline: Date | number;
  /** The most bytes accepted, whatever the registry announces: RESOURCE_EXHAUSTED beyond it. */
  maxBytes: number;
  /**
   * The digest the version lists for this file. Without it the download is checked against the digest the
   * registry announces in its first chunk (which still catches a truncated or corrupted transfer).
   */
  expected?: ArtifactDigest;
  sink: ArtifactSink;
  /** What the file is, for messages: `<what> <model> version <version> file "<path>" rejected: ...` (default 'artifact'). */
  what?: string;
}

export interface DownloadedArtifact {
  sha256: string;
  sizeBytes: number;
}

/**
 * Streams the artifact into `sink` and returns its verified digest (and its bytes, for the 'buffer' sink).
 * A mismatch of any kind is DATA_LOSS naming the artifact and what differed; a status error of the stream
 * itself (NOT_FOUND, UNAVAILABLE, ...) is thrown as it came, for the caller to interpret. On any failure the
 * call is cancelled.
 */
export function downloadArtifact(options: DownloadArtifactOptions & { sink: 'buffer' }): Promise<DownloadedArtifact & { data: Buffer }>;
export function downloadArtifact(options: DownloadArtifactOptions & { sink: { file: string } }): Promise<DownloadedArtifact>;
export function downloadArtifact(options: DownloadArtifactOptions): Promise<DownloadedArtifact & { data?: Buffer }>;
export async function downloadArtifact(options: DownloadArtifactOptions): Promise<DownloadedArtifact & { data?: Buffer }> {
  const { request, expected, maxBytes, sink } = options;
  const label = `${options.what ?? 'artifact'} ${request.model} version ${request.version} file ${JSON.stringify(request.path)}`;
  const corrupt = (why: string) => new GrpcError(grpc.status.DATA_LOSS, `${label} rejected: ${why}`);
  const tooLarge = (why: string) => new GrpcError(grpc.status.RESOURCE_EXHAUSTED, `${label} rejected: ${why}; the limit is ${maxBytes} bytes`);
  if (expected && expected.size_bytes > maxBytes) throw tooLarge(`it is ${expected.size_bytes} bytes`);

  const deadline = typeof options.deadline === 'number' ? new Date(Date.now() + options.deadline) : options.deadline;
  const stream = options.registry.DownloadArtifact(request, { deadline }) as grpc.ClientReadableStream<ArtifactChunk__Output>;
  const hash = createHash('sha256');
  let announced: ArtifactDigest | undefined;
  let received = 0;

  // Checks each chunk before its bytes go anywhere: a wrong announcement or an oversized stream stops at once.
  async function* verified(chunks: AsyncIterable<ArtifactChunk__Output>): AsyncGenerator<Buffer> {
    for await (const chunk of chunks) {
      if (!announced) {
        announced = { sha256: chunk.sha256, size_bytes: chunk.size_bytes };
        if (expected && (announced.sha256 !== expected.sha256 || announced.size_bytes !== expected.size_bytes)) {
          throw corrupt(
            `the registry streams sha256 ${announced.sha256} (${announced.size_bytes} bytes), its version lists ${expected.sha256} (${expected.size_bytes} bytes)`,
          );
        }
        if (announced.size_bytes > maxBytes) throw tooLarge(`the registry announces ${announced.size_bytes} bytes`);
      }
      received += chunk.data.length;
      if (received > announced.size_bytes) throw corrupt(`more than the ${announced.size_bytes} bytes announced arrived`);
      hash.update(chunk.data);
      yield chunk.data;
    }
  }

  const parts: Buffer[] = [];
  try {
    if (sink === 'buffer') {
      for await (const data of verified(stream)) parts.push(data);
    } else {
      await pipeline(verified(stream), fs.createWriteStream(sink.file));
    }
  } catch (error) {
    stream.cancel();
    if (sink !== 'buffer') await fs.promises.rm(sink.file, { force: true });
    throw error;
  }

  const failure = verifyWhole({ announced, expected, received, sha256: hash.digest('hex') });
  if (failure) {
    if (sink !== 'buffer') await fs.promises.rm(sink.file, { force: true });
    throw corrupt(failure);
  }
  const result: DownloadedArtifact = { sha256: (expected ?? announced)!.sha256, sizeBytes: received };
  return sink === 'buffer' ? { ...result, data: Buffer.concat(parts, received) } : result;
}

/** What is wrong with the complete download, or undefined when it is what was expected (or announced). */
function verifyWhole(options: {
  announced: ArtifactDigest | undefined;
  expected: ArtifactDigest | undefined;
  received: number;
  sha256: string;
}): string | undefined {
  const want = options.expected ?? options.announced;
  // The registry sends one chunk carrying the digest even for an empty file: no chunk at all is a broken stream.
  if (!want) return 'the registry sent no data and no digest';
  if (options.received !== want.size_bytes) return `${options.received} bytes arrived, ${want.size_bytes} were announced`;
  if (options.sha256 !== want.sha256) return `its sha256 is ${options.sha256}, expected ${want.sha256}`;
  return undefined;
}
