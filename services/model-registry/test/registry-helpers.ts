/**
 * What the registry's own tests add to the shared test support (test/support): a fake package with a nested
 * file, so that every upload here also covers paths with folders; the DownloadArtifact stream as a promise; a
 * poll for background effects.
 */
import type { ArtifactChunk__Output, ModelRegistryClient } from '@maas/protos';
import { fakePackage, type FakePackageOptions, type ModelPackage } from '../../../test/support/model-packages.js';

/** The shared fake package (model.onnx, tokenizer.json) plus extra/notes.txt. */
export function nestedFakePackage(options: Omit<FakePackageOptions, 'extraFiles'>): ModelPackage {
  return fakePackage({ ...options, extraFiles: [{ path: 'extra/notes.txt', data: Buffer.from(`package ${options.name} ${options.version}\n`) }] });
}

/** Downloads one artifact: every chunk, concatenated. */
export function download(
  client: ModelRegistryClient,
  request: { model: string; version: string; path: string },
): Promise<{ chunks: ArtifactChunk__Output[]; data: Buffer }> {
  return new Promise((resolve, reject) => {
    const chunks: ArtifactChunk__Output[] = [];
    const call = client.DownloadArtifact(request, { deadline: Date.now() + 10_000 });
    call.on('data', (chunk: ArtifactChunk__Output) => chunks.push(chunk));
    call.on('error', reject);
    call.on('end', () => resolve({ chunks, data: Buffer.concat(chunks.map((chunk) => chunk.data)) }));
  });
}
