/**
 * Content-addressed artifact storage: `<dataDir>/blobs/sha256/<first two hex digits>/<hex>`.
 *
 * Bytes are always written to a temp file under `<dataDir>/tmp` (same file system) while being hashed, synced,
 * and only then renamed into place, so a blob path either does not exist or holds exactly the bytes its name
 * says — when it is written. Disks and people can still damage a blob later, so nothing trusts a stored blob
 * without hashing it: deduplicating onto one (`commit`) and serving one (`verify`) both read it back, and a
 * correct upload replaces a damaged blob instead of being deduplicated onto it. Equal files of different
 * versions share one blob.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, type ReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';

const SHA256_HEX = /^[0-9a-f]{64}$/;

/** What reading a blob back found: its bytes hash to its name, or it is missing, the wrong size, or damaged. */
export type BlobCondition = { ok: true; sizeBytes: number } | { ok: false; problem: 'missing' | 'size' | 'sha256'; detail: string };

/** A fully written temp file and its digest, ready to become a blob. */
export interface StagedFile {
  readonly tempPath: string;
  readonly sha256: string;
  readonly sizeBytes: number;
}

/** Writes one file into a staging area, hashing as it goes. */
export interface BlobWriter {
  readonly bytesWritten: number;
  write(data: Uint8Array): Promise<void>;
  /** Flushes to disk and returns the digest; the writer cannot be used afterwards. */
  finish(): Promise<StagedFile>;
  /** Closes the file without finishing it (an upload that failed); safe to call at any time. */
  abort(): Promise<void>;
}

/** The temp folder of one upload; `discard()` removes everything in it that was not committed. */
export interface StagingArea {
  createWriter(): Promise<BlobWriter>;
  /** Stages a whole buffer (e.g. the canonical manifest). */
  writeBuffer(data: Uint8Array): Promise<StagedFile>;
  discard(): Promise<void>;
}

export class BlobStore {
  private constructor(
    /** Root of the blobs: `<dataDir>/blobs/sha256`. */
    readonly blobRoot: string,
    /** Temp files of uploads in progress: `<dataDir>/tmp`. */
    readonly tempRoot: string,
  ) {}

  /**
   * Creates the folders and removes temp files left by a previous process that died mid-upload (no upload can
   * be in progress before the server starts).
   */
  static async open(options: { dataDir: string }): Promise<BlobStore> {
    const store = new BlobStore(path.join(options.dataDir, 'blobs', 'sha256'), path.join(options.dataDir, 'tmp'));
    await fs.rm(store.tempRoot, { recursive: true, force: true });
    await fs.mkdir(store.tempRoot, { recursive: true });
    await fs.mkdir(store.blobRoot, { recursive: true });
    return store;
  }

  /** Where the blob with this digest lives (whether or not it exists). */
  blobPath(sha256: string): string {
    if (!SHA256_HEX.test(sha256)) throw new Error(`not a sha256 hex digest: ${JSON.stringify(sha256)}`);
    return path.join(this.blobRoot, sha256.slice(0, 2), sha256);
  }

  async has(sha256: string): Promise<boolean> {
    return fs.access(this.blobPath(sha256)).then(
      () => true,
      () => false,
    );
  }

  async createStagingArea(): Promise<StagingArea> {
    const dir = path.join(this.tempRoot, `upload-${randomUUID()}`);
    await fs.mkdir(dir);
    // Writers still open when the upload fails must be closed, or their file descriptors leak.
    const writers: BlobWriter[] = [];
    const createWriter = async () => {
      const writer = await createBlobWriter(path.join(dir, randomUUID()));
      writers.push(writer);
      return writer;
    };
    return {
      createWriter,
      async writeBuffer(data) {
        const writer = await createWriter();
        await writer.write(data);
        return writer.finish();
      },
      async discard() {
        await Promise.all(writers.map((writer) => writer.abort()));
        await fs.rm(dir, { recursive: true, force: true });
      },
    };
  }

  /**
   * Moves a staged file into its content address. Returns false when that blob already existed (the temp
   * file then stays in its staging area, to be discarded): callers use it to undo only blobs they created.
   */
  async commit(staged: StagedFile): Promise<boolean> {
    const target = this.blobPath(staged.sha256);
    if (await this.has(staged.sha256)) {
      const existing = await this.verify(staged.sha256, staged.sizeBytes);
      if (existing.ok) return false;
      // The stored copy is damaged and this upload's bytes are proven right (they hash to the name): they
      // replace it. Not "created" (false): versions already point at this blob, so an undo must not remove it.
      await fs.rename(staged.tempPath, target);
      await syncDirectory(path.dirname(target));
      this.onHealed?.(staged.sha256, existing.detail);
      return false;
    }
    await fs.mkdir(path.dirname(target), { recursive: true });
    await fs.rename(staged.tempPath, target);
    await syncDirectory(path.dirname(target));
    return true;
  }

  /** Called when a correct upload replaced a damaged blob (for the log and metrics). */
  onHealed?: (sha256: string, problem: string) => void;

  /**
   * Reads the blob back and hashes it: ok only when it is there, `expectedSize` bytes long (when given) and
   * its bytes hash to its name.
   */
  async verify(sha256: string, expectedSize?: number): Promise<BlobCondition> {
    const file = this.blobPath(sha256);
    const stat = await fs.stat(file).catch(() => undefined);
    if (!stat) return { ok: false, problem: 'missing', detail: 'is missing from the registry storage' };
    if (expectedSize !== undefined && stat.size !== expectedSize)
      return { ok: false, problem: 'size', detail: `has ${stat.size} bytes on disk, ${expectedSize} recorded` };
    const actual = await sha256OfFile(file).catch(() => undefined);
    if (actual === undefined) return { ok: false, problem: 'missing', detail: 'is missing from the registry storage' };
    if (actual !== sha256) return { ok: false, problem: 'sha256', detail: `is damaged: its bytes hash to ${actual}` };
    return { ok: true, sizeBytes: stat.size };
  }

  async remove(sha256: string): Promise<void> {
    await fs.rm(this.blobPath(sha256), { force: true });
  }

  /** Every digest stored on disk. */
  async list(): Promise<string[]> {
    const digests: string[] = [];
    for (const prefix of await fs.readdir(this.blobRoot)) {
      const names = await fs.readdir(path.join(this.blobRoot, prefix)).catch(() => [] as string[]);
      digests.push(...names.filter((name) => SHA256_HEX.test(name) && name.startsWith(prefix)));
    }
    return digests;
  }

  /** Streams a blob in chunks of at most `chunkBytes`. */
  openRead(sha256: string, chunkBytes: number): ReadStream {
    return createReadStream(this.blobPath(sha256), { highWaterMark: chunkBytes });
  }
}

async function createBlobWriter(tempPath: string): Promise<BlobWriter> {
  const handle = await fs.open(tempPath, 'wx');
  const hash = createHash('sha256');
  let bytesWritten = 0;
  let finished = false;
  let closed: Promise<void> | undefined;
  const close = () => (closed ??= handle.close());
  return {
    get bytesWritten() {
      return bytesWritten;
    },
    async write(data) {
      if (finished) throw new Error('blob writer already finished');
      hash.update(data);
      let offset = 0;
      while (offset < data.length) {
        const { bytesWritten: written } = await handle.write(data, offset, data.length - offset);
        offset += written;
      }
      bytesWritten += data.length;
    },
    async finish() {
      if (finished) throw new Error('blob writer already finished');
      finished = true;
      try {
        await handle.sync();
      } finally {
        await close();
      }
      return { tempPath, sha256: hash.digest('hex'), sizeBytes: bytesWritten };
    },
    async abort() {
      finished = true;
      await close().catch(() => undefined);
    },
  };
}

/** sha256 of a file's bytes, read as a stream. */
export async function sha256OfFile(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const data of createReadStream(file, { highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>) hash.update(data);
  return hash.digest('hex');
}

/** Makes a rename durable: the directory entry itself must reach the disk. */
async function syncDirectory(dir: string): Promise<void> {
  const handle = await fs.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
