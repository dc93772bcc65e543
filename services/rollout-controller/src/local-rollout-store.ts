/**
 * ModelRollout documents without Kubernetes: one YAML file per rollout in a folder (ROLLOUTS_DIR), the same
 * document as the custom resource. The controller writes each one's status beside it, `<name>.status.json`
 * (status, the generation it stands for, the last events), which `maasctl rollout status` reads. Files are
 * replaced by rename, so a reader never sees half a status.
 *
 * A file has no generation of its own: the store keeps one per document, bumped whenever the spec's content
 * changes, so observedGeneration means what it means in a cluster.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from '@maas/shared';
import { parseModelRollout, type ModelRolloutDocument, type ModelRolloutStatus } from './model-rollout.js';
import type { RolloutEvent, RolloutStore } from './rollout-store.js';

/** Events kept per rollout in its status file (the newest last). */
export const LOCAL_EVENTS_KEPT = 50;

export interface LocalStatusFile {
  generation: number;
  specHash: string;
  status: ModelRolloutStatus;
  events: Array<RolloutEvent & { time: string }>;
}

export const statusFileName = (name: string) => `${name}.status.json`;
const isDocumentFile = (file: string) => /\.ya?ml$/.test(file);

export function readStatusFile(dir: string, name: string): LocalStatusFile | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, statusFileName(name)), 'utf8')) as LocalStatusFile;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

function writeFileAtomic(file: string, content: string): void {
  const temp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temp, content);
  fs.renameSync(temp, file);
}

export class LocalRolloutStore implements RolloutStore {
  private readonly listeners: Array<() => void> = [];
  private watcher: fs.FSWatcher | undefined;
  /** Documents already reported as invalid, by file and content, so a bad file is logged once, not every tick. */
  private readonly reported = new Set<string>();

  constructor(private readonly options: { dir: string; logger: Logger }) {
    fs.mkdirSync(options.dir, { recursive: true });
    try {
      // Changes are picked up at the next resync anyway; the watch only makes them prompt.
      this.watcher = fs.watch(options.dir, (_event, file) => {
        if (file && isDocumentFile(file)) for (const listener of this.listeners) listener();
      });
      this.watcher.on('error', () => this.watcher?.close());
    } catch {
      this.watcher = undefined;
    }
  }

  async list(): Promise<ModelRolloutDocument[]> {
    const docs: ModelRolloutDocument[] = [];
    for (const file of fs.readdirSync(this.options.dir).filter(isDocumentFile).sort()) {
      const full = path.join(this.options.dir, file);
      let text: string;
      try {
        text = fs.readFileSync(full, 'utf8');
      } catch {
        continue; // removed between readdir and read
      }
      let doc: ModelRolloutDocument;
      try {
        doc = parseModelRollout(text, full);
      } catch (error) {
        const key = `${file}:${createHash('sha256').update(text).digest('hex')}`;
        if (!this.reported.has(key)) this.options.logger.warn({ file: full, problem: (error as Error).message }, 'skipping an invalid ModelRollout document');
        this.reported.add(key);
        continue;
      }
      const saved = readStatusFile(this.options.dir, doc.metadata.name);
      const specHash = createHash('sha256').update(JSON.stringify(doc.spec)).digest('hex');
      const generation = saved ? (saved.specHash === specHash ? saved.generation : saved.generation + 1) : 1;
      doc.metadata.generation = generation;
      doc.status = saved?.status;
      docs.push(doc);
    }
    return docs;
  }

  private update(doc: ModelRolloutDocument, change: (file: LocalStatusFile) => void): void {
    const specHash = createHash('sha256').update(JSON.stringify(doc.spec)).digest('hex');
    const file = readStatusFile(this.options.dir, doc.metadata.name) ?? { generation: doc.metadata.generation ?? 1, specHash, status: {}, events: [] };
    file.generation = doc.metadata.generation ?? file.generation;
    file.specHash = specHash;
    change(file);
    writeFileAtomic(path.join(this.options.dir, statusFileName(doc.metadata.name)), `${JSON.stringify(file, null, 2)}\n`);
  }

  async writeStatus(doc: ModelRolloutDocument, status: ModelRolloutStatus): Promise<void> {
    this.update(doc, (file) => {
      file.status = status;
    });
  }

  async recordEvent(doc: ModelRolloutDocument, event: RolloutEvent): Promise<void> {
    this.update(doc, (file) => {
      file.events.push({ ...event, time: new Date().toISOString() });
      file.events.splice(0, Math.max(0, file.events.length - LOCAL_EVENTS_KEPT));
    });
  }

  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  stop(): void {
    this.watcher?.close();
  }
}
