/**
 * The registry's metadata in SQLite: models, versions, their artifacts (path → content digest), rollouts and
 * the global revision. Every change bumps the revision in the same transaction, so a snapshot's revision always
 * describes exactly what the snapshot holds.
 *
 * better-sqlite3 is synchronous: a method runs to completion without yielding to the event loop, and each
 * multi-statement read or write runs in one SQLite transaction as well (WAL lets readers of other processes,
 * e.g. a backup, proceed during writes).
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import {
  isValidVersion,
  type Alias__Output,
  type Artifact__Output,
  type ListModelsResponse__Output,
  Model__Output,
  ModelManifest__Output,
  ModelVersion__Output,
  Rollout__Output,
} from '@maas/protos';
import { aborted, alreadyExists, failedPrecondition, invalidArgument, notFound } from '@maas/shared';

/**
 * Schema migrations, in order; entry i brings the schema from version i to i + 1. Append, never edit: a
 * database records the version it is at and only the missing steps run.
 */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE registry_revision (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    revision INTEGER NOT NULL
  );
  INSERT INTO registry_revision (id, revision) VALUES (1, 0);
  CREATE TABLE models (
    name TEXT PRIMARY KEY,
    created_at TEXT NOT NULL
  );
  CREATE TABLE versions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    model TEXT NOT NULL REFERENCES models (name),
    version TEXT NOT NULL,
    manifest_json TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revision INTEGER NOT NULL,
    UNIQUE (model, version)
  );
  CREATE TABLE artifacts (
    version_id INTEGER NOT NULL REFERENCES versions (id),
    position INTEGER NOT NULL,
    path TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    size_bytes INTEGER NOT NULL,
    PRIMARY KEY (version_id, path)
  );
  CREATE INDEX artifacts_by_sha256 ON artifacts (sha256);
  CREATE TABLE rollouts (
    model TEXT PRIMARY KEY REFERENCES models (name),
    stable_version TEXT NOT NULL,
    canary_version TEXT NOT NULL,
    canary_weight INTEGER NOT NULL,
    revision INTEGER NOT NULL,
    updated_at TEXT NOT NULL
  );
  `,
  // 1 → 2 (issue 8): shadow traffic on the rollout, and named aliases of versions. Existing rollouts mirror nothing.
  `
  ALTER TABLE rollouts ADD COLUMN mirror_percent INTEGER NOT NULL DEFAULT 0;
  CREATE TABLE aliases (
    model TEXT NOT NULL REFERENCES models (name),
    name TEXT NOT NULL,
    version TEXT NOT NULL,
    revision INTEGER NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (model, name),
    FOREIGN KEY (model, version) REFERENCES versions (model, version)
  );
  `,
];

/** The schema version this code writes. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/** A version to record; its blobs are already stored. */
export interface NewVersion {
  manifest: ModelManifest__Output;
  /** The canonical maas.json text (stored as given, served parsed). */
  manifestJson: string;
  /** Every stored file, maas.json included, in the order to list them. */
  artifacts: Artifact__Output[];
  /** RFC 3339 UTC. */
  createdAt: string;
}

/** SetRollout's arguments. */
export interface RolloutChange {
  model: string;
  stableVersion: string;
  canaryVersion: string;
  canaryWeight: number;
  /** Percent of stable's traffic mirrored to the canary (0 without a canary). */
  mirrorPercent: number;
  /** 0: no check; otherwise the rollout's current revision must equal it. */
  expectedRevision: number;
  /** RFC 3339 UTC. */
  updatedAt: string;
}

/** SetAlias's arguments. */
export interface AliasChange {
  model: string;
  alias: string;
  /** Empty removes the alias. */
  version: string;
  /** 0: no check; otherwise the alias's current revision (0 when it does not exist) must equal it. */
  expectedRevision: number;
  /** RFC 3339 UTC. */
  updatedAt: string;
}

/**
 * Called inside every write transaction, right after its revision bump: what it writes on `db` (the store's own
 * connection) commits or rolls back with the write, and a throw rolls the write back. The audit log's row.
 */
export type WriteHook = (write: {
  /** The model the write concerns. */
  model: string;
  fromRevision: number;
  toRevision: number;
  /** What the write recorded, for the log when the caller's request does not say it (a streamed upload). */
  summary: unknown;
}) => void;

/** Alias names (registry.proto): lowercase, starting with a letter, so they read as names, not numbers. */
export const ALIAS_NAME_PATTERN = /^[a-z][a-z0-9-]{0,62}$/;

interface VersionRow {
  id: number;
  model: string;
  version: string;
  manifest_json: string;
  created_at: string;
  revision: number;
}

interface ArtifactRow {
  version_id: number;
  path: string;
  sha256: string;
  size_bytes: number;
}

interface RolloutRow {
  model: string;
  stable_version: string;
  canary_version: string;
  canary_weight: number;
  mirror_percent: number;
  revision: number;
  updated_at: string;
}

interface AliasRow {
  model: string;
  name: string;
  version: string;
  revision: number;
  updated_at: string;
}

const VERSION_COLUMNS = 'id, model, version, manifest_json, created_at, revision';

/** Every statement the store runs, prepared once per database (after migration: they need the tables). */
function prepareStatements(db: Database.Database) {
  return {
    hasModel: db.prepare('SELECT 1 FROM models WHERE name = ?'),
    hasVersion: db.prepare('SELECT 1 FROM versions WHERE model = ? AND version = ?'),
    insertModel: db.prepare('INSERT OR IGNORE INTO models (name, created_at) VALUES (?, ?)'),
    insertVersion: db.prepare('INSERT INTO versions (model, version, manifest_json, created_at, revision) VALUES (?, ?, ?, ?, ?)'),
    insertArtifact: db.prepare('INSERT INTO artifacts (version_id, position, path, sha256, size_bytes) VALUES (?, ?, ?, ?, ?)'),
    allVersions: db.prepare(`SELECT ${VERSION_COLUMNS} FROM versions ORDER BY id`),
    versionsOf: db.prepare(`SELECT ${VERSION_COLUMNS} FROM versions WHERE model = ? ORDER BY id`),
    version: db.prepare(`SELECT ${VERSION_COLUMNS} FROM versions WHERE model = ? AND version = ?`),
    allArtifacts: db.prepare('SELECT version_id, path, sha256, size_bytes FROM artifacts ORDER BY version_id, position'),
    artifactsOf: db.prepare('SELECT version_id, path, sha256, size_bytes FROM artifacts WHERE version_id = ? ORDER BY position'),
    allRollouts: db.prepare('SELECT * FROM rollouts'),
    rolloutOf: db.prepare('SELECT * FROM rollouts WHERE model = ?'),
    modelNames: db.prepare('SELECT name FROM models ORDER BY name'),
    upsertRollout: db.prepare(
      `INSERT INTO rollouts (model, stable_version, canary_version, canary_weight, mirror_percent, revision, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (model) DO UPDATE SET stable_version = excluded.stable_version, canary_version = excluded.canary_version,
         canary_weight = excluded.canary_weight, mirror_percent = excluded.mirror_percent, revision = excluded.revision, updated_at = excluded.updated_at`,
    ),
    allAliases: db.prepare('SELECT * FROM aliases ORDER BY model, name'),
    aliasesOf: db.prepare('SELECT * FROM aliases WHERE model = ? ORDER BY name'),
    alias: db.prepare('SELECT * FROM aliases WHERE model = ? AND name = ?'),
    hasAliasNamed: db.prepare('SELECT 1 FROM aliases WHERE model = ? AND name = ?'),
    upsertAlias: db.prepare(
      `INSERT INTO aliases (model, name, version, revision, updated_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (model, name) DO UPDATE SET version = excluded.version, revision = excluded.revision, updated_at = excluded.updated_at`,
    ),
    deleteAlias: db.prepare('DELETE FROM aliases WHERE model = ? AND name = ?'),
    referencedDigests: db.prepare('SELECT DISTINCT sha256 FROM artifacts'),
    storedBlobs: db.prepare(
      'SELECT COALESCE(SUM(size_bytes), 0) AS bytes, COUNT(*) AS count FROM (SELECT sha256, MAX(size_bytes) AS size_bytes FROM artifacts GROUP BY sha256)',
    ),
    readRevision: db.prepare('SELECT revision FROM registry_revision WHERE id = 1'),
    bumpRevision: db.prepare('UPDATE registry_revision SET revision = revision + 1 WHERE id = 1 RETURNING revision'),
  };
}

export class RegistryStore {
  /**
   * Parsed manifests by version id, deeply frozen: versions never change, and ListModels runs on every
   * consumer's resync, so every read hands out the same objects instead of parsing or copying them again.
   * Callers only serialize them; freezing makes any attempt to alter one throw rather than corrupt the cache.
   */
  private readonly manifests = new Map<number, ModelManifest__Output>();
  private readonly sql: ReturnType<typeof prepareStatements>;
  private writeHook: WriteHook | undefined;

  private constructor(private readonly db: Database.Database) {
    this.sql = prepareStatements(db);
  }

  /** Opens (creating if needed) the database at `file` and brings its schema up to date. */
  static open(options: { file: string }): RegistryStore {
    fs.mkdirSync(path.dirname(options.file), { recursive: true });
    const db = new Database(options.file);
    try {
      db.pragma('journal_mode = WAL');
      // NORMAL is durable across application crashes in WAL mode; only an OS crash can lose the last commits.
      db.pragma('synchronous = NORMAL');
      db.pragma('foreign_keys = ON');
      db.pragma('busy_timeout = 5000');
      migrate(db);
    } catch (error) {
      db.close();
      throw error;
    }
    return new RegistryStore(db);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  /**
   * The connection every write transaction runs on, for a hook that must write in the same transactions (the
   * audit log): a second connection could only write after the commit, so a crash between the two could leave
   * a write without its row.
   */
  get connection(): Database.Database {
    return this.db;
  }

  /** Runs `hook` in every later write transaction (one hook; a second replaces the first). */
  onWrite(hook: WriteHook | undefined): void {
    this.writeHook = hook;
  }

  /** The schema version of the open database. */
  get schemaVersion(): number {
    return readSchemaVersion(this.db);
  }

  /** The current global revision (0 for an empty registry). */
  get revision(): number {
    return this.readRevision();
  }

  hasModel(name: string): boolean {
    return this.sql.hasModel.get(name) !== undefined;
  }

  hasVersion(model: string, version: string): boolean {
    return this.sql.hasVersion.get(model, version) !== undefined;
  }

  /** Records a version (and its model, the first time). ALREADY_EXISTS when the version is registered. */
  insertVersion(entry: NewVersion): ModelVersion__Output {
    const { name: model, version } = entry.manifest;
    return this.db
      .transaction((): ModelVersion__Output => {
        if (this.hasVersion(model, version)) throw versionExists(model, version);
        if (this.hasAlias(model, version)) throw versionNamedLikeAlias(model, version);
        const revision = this.bumpRevision(model, {
          model,
          version,
          files: entry.artifacts.map(({ path: file, sha256, size_bytes }) => ({ path: file, sha256, size_bytes })),
        });
        this.sql.insertModel.run(model, entry.createdAt);
        const { lastInsertRowid } = this.sql.insertVersion.run(model, version, entry.manifestJson, entry.createdAt, revision);
        entry.artifacts.forEach((artifact, position) =>
          this.sql.insertArtifact.run(lastInsertRowid, position, artifact.path, artifact.sha256, artifact.size_bytes),
        );
        return {
          model,
          version,
          manifest: entry.manifest,
          artifacts: entry.artifacts.map((artifact) => ({ ...artifact })),
          created_at: entry.createdAt,
          revision,
        };
      })
      .immediate();
  }

  /** Every model, by name, and the revision this snapshot is at: one read transaction. */
  listModels(): ListModelsResponse__Output {
    return this.db.transaction((): ListModelsResponse__Output => {
      const revision = this.readRevision();
      const versionRows = this.sql.allVersions.all() as VersionRow[];
      const artifactRows = this.sql.allArtifacts.all() as ArtifactRow[];
      const rolloutRows = this.sql.allRollouts.all() as RolloutRow[];
      const aliasesByModel = groupBy(this.sql.allAliases.all() as AliasRow[], (row) => row.model);
      const names = (this.sql.modelNames.all() as Array<{ name: string }>).map((row) => row.name);
      const artifactsByVersion = groupBy(artifactRows, (row) => row.version_id);
      const versionsByModel = groupBy(versionRows, (row) => row.model);
      const rollouts = new Map(rolloutRows.map((row) => [row.model, row]));
      const models = names.map((name) => ({
        name,
        versions: (versionsByModel.get(name) ?? []).map((row) => this.toVersion(row, artifactsByVersion.get(row.id) ?? [])),
        rollout: toRollout(name, rollouts.get(name)),
        aliases: (aliasesByModel.get(name) ?? []).map(toAlias),
      }));
      return { models, revision };
    })();
  }

  /** One model, or undefined when it is not registered. */
  getModel(name: string): Model__Output | undefined {
    return this.db.transaction((): Model__Output | undefined => {
      if (!this.hasModel(name)) return undefined;
      const versionRows = this.sql.versionsOf.all(name) as VersionRow[];
      const rollout = this.sql.rolloutOf.get(name) as RolloutRow | undefined;
      const aliases = (this.sql.aliasesOf.all(name) as AliasRow[]).map(toAlias);
      return { name, versions: versionRows.map((row) => this.toVersion(row, this.artifactsOf(row.id))), rollout: toRollout(name, rollout), aliases };
    })();
  }

  /** One version, or undefined when it is not registered. */
  getVersion(model: string, version: string): ModelVersion__Output | undefined {
    const row = this.sql.version.get(model, version) as VersionRow | undefined;
    return row && this.toVersion(row, this.artifactsOf(row.id));
  }

  /**
   * Sets a model's rollout. INVALID_ARGUMENT for inconsistent arguments, NOT_FOUND for an unknown model or
   * version, ABORTED when `expectedRevision` is set and differs from the rollout's revision. Setting the rollout
   * it already has changes nothing (no revision, no event): re-applying a desired state is idempotent.
   */
  setRollout(change: RolloutChange): { rollout: Rollout__Output; changed: boolean } {
    const problems = rolloutProblems(change);
    if (problems.length > 0) throw invalidArgument(problems.join('; '));
    return this.db
      .transaction(() => {
        const { model } = change;
        if (!this.hasModel(model)) throw notFound(`model "${model}" is not registered`);
        const current = toRollout(model, this.sql.rolloutOf.get(model) as RolloutRow | undefined);
        if (change.expectedRevision !== 0 && change.expectedRevision !== current.revision) {
          throw aborted(`rollout of model "${model}" is at revision ${current.revision}, not the expected ${change.expectedRevision}; read it again and retry`);
        }
        for (const version of [change.stableVersion, change.canaryVersion]) {
          if (version && !this.hasVersion(model, version)) throw notFound(`model "${model}" has no version "${version}"`);
        }
        if (
          current.stable_version === change.stableVersion &&
          current.canary_version === change.canaryVersion &&
          current.canary_weight === change.canaryWeight &&
          current.mirror_percent === change.mirrorPercent
        ) {
          return { rollout: current, changed: false };
        }
        const revision = this.bumpRevision(model, change);
        this.sql.upsertRollout.run(model, change.stableVersion, change.canaryVersion, change.canaryWeight, change.mirrorPercent, revision, change.updatedAt);
        const rollout: Rollout__Output = {
          model,
          stable_version: change.stableVersion,
          canary_version: change.canaryVersion,
          canary_weight: change.canaryWeight,
          mirror_percent: change.mirrorPercent,
          revision,
          updated_at: change.updatedAt,
        };
        return { rollout, changed: true };
      })
      .immediate();
  }

  /**
   * Points an alias at a version, or removes it (empty version). INVALID_ARGUMENT for a bad name, NOT_FOUND for an
   * unknown model or version, ABORTED when `expectedRevision` is set and differs from the alias's revision (0 when
   * it does not exist). Setting what is already there changes nothing (no revision, no event). `previousVersion`
   * is what it pointed at before ('' when new), for the AliasChanged event.
   */
  setAlias(change: AliasChange): { alias: Alias__Output; previousVersion: string; changed: boolean } {
    const problems = aliasProblems(change);
    if (problems.length > 0) throw invalidArgument(problems.join('; '));
    return this.db
      .transaction(() => {
        const { model, alias: name, version } = change;
        if (!this.hasModel(model)) throw notFound(`model "${model}" is not registered`);
        // Checked in the transaction: a pin resolves labels and aliases in one namespace, so they must never overlap.
        if (this.hasVersion(model, name)) throw invalidArgument(`alias: "${name}" is a version label of model "${model}"; an alias must not look like one`);
        const row = this.sql.alias.get(model, name) as AliasRow | undefined;
        const currentRevision = row?.revision ?? 0;
        if (change.expectedRevision !== 0 && change.expectedRevision !== currentRevision) {
          throw aborted(
            `alias "${name}" of model "${model}" is at revision ${currentRevision}, not the expected ${change.expectedRevision}; read it again and retry`,
          );
        }
        if (version && !this.hasVersion(model, version)) throw notFound(`model "${model}" has no version "${version}"`);
        const previousVersion = row?.version ?? '';
        if (previousVersion === version) {
          const unchanged = row ? toAlias(row) : { name, version: '', revision: 0, updated_at: '' };
          return { alias: unchanged, previousVersion, changed: false };
        }
        const revision = this.bumpRevision(model, change);
        if (version) this.sql.upsertAlias.run(model, name, version, revision, change.updatedAt);
        else this.sql.deleteAlias.run(model, name);
        return { alias: { name, version, revision, updated_at: change.updatedAt }, previousVersion, changed: true };
      })
      .immediate();
  }

  hasAlias(model: string, name: string): boolean {
    return this.sql.hasAliasNamed.get(model, name) !== undefined;
  }

  /** Every digest some version references (what the blob store must keep). */
  referencedDigests(): Set<string> {
    const rows = this.sql.referencedDigests.all() as Array<{ sha256: string }>;
    return new Set(rows.map((row) => row.sha256));
  }

  /** Bytes and count of distinct blobs referenced (each stored once, however many versions share it). */
  storedBlobs(): { bytes: number; count: number } {
    return this.sql.storedBlobs.get() as { bytes: number; count: number };
  }

  private readRevision(): number {
    return (this.sql.readRevision.get() as { revision: number }).revision;
  }

  /** The revision of a write, inside its transaction; the write hook runs here, so every write meets it exactly once. */
  private bumpRevision(model: string, summary: unknown): number {
    const revision = (this.sql.bumpRevision.get() as { revision: number }).revision;
    this.writeHook?.({ model, fromRevision: revision - 1, toRevision: revision, summary });
    return revision;
  }

  private artifactsOf(versionId: number): ArtifactRow[] {
    return this.sql.artifactsOf.all(versionId) as ArtifactRow[];
  }

  private toVersion(row: VersionRow, artifacts: ArtifactRow[]): ModelVersion__Output {
    let manifest = this.manifests.get(row.id);
    if (!manifest) {
      // Manifests stored before a field existed lack it; serve the proto default so readers see the full shape.
      manifest = deepFreeze({ evaluation_file: '', ...(JSON.parse(row.manifest_json) as Partial<ModelManifest__Output>) } as ModelManifest__Output);
      this.manifests.set(row.id, manifest);
    }
    return {
      model: row.model,
      version: row.version,
      manifest,
      artifacts: artifacts.map((artifact) => ({ path: artifact.path, sha256: artifact.sha256, size_bytes: artifact.size_bytes })),
      created_at: row.created_at,
      revision: row.revision,
    };
  }
}

/** The ALREADY_EXISTS a second registration of a version gets. */
export function versionExists(model: string, version: string) {
  return alreadyExists(`model "${model}" version "${version}" is already registered`);
}

/** The FAILED_PRECONDITION a version gets whose label is already an alias of its model (pins would be ambiguous). */
export function versionNamedLikeAlias(model: string, version: string) {
  return failedPrecondition(
    `model "${model}" has an alias "${version}"; a version label must differ from the model's aliases (move or delete the alias first)`,
  );
}

/** The argument rules of SetAlias (registry.proto), each problem naming its field. */
export function aliasProblems(change: Pick<AliasChange, 'model' | 'alias' | 'version'>): string[] {
  const problems: string[] = [];
  if (!change.model) problems.push('model: is required');
  if (!ALIAS_NAME_PATTERN.test(change.alias)) {
    problems.push(`alias: ${JSON.stringify(change.alias)} must be lowercase letters, digits and '-', 1–63 characters, starting with a letter`);
  }
  if (change.version && !isValidVersion(change.version)) problems.push(`version: ${JSON.stringify(change.version)} is not a valid version label`);
  return problems;
}

/** The argument rules of SetRollout (registry.proto), each problem naming its field. */
export function rolloutProblems(change: Pick<RolloutChange, 'model' | 'stableVersion' | 'canaryVersion' | 'canaryWeight' | 'mirrorPercent'>): string[] {
  const problems: string[] = [];
  if (!change.model) problems.push('model: is required');
  if (!change.stableVersion) problems.push('stable_version: is required');
  if (!Number.isInteger(change.canaryWeight) || change.canaryWeight < 0 || change.canaryWeight > 100) {
    problems.push(`canary_weight: must be from 0 to 100 (got ${change.canaryWeight})`);
  }
  if (change.canaryVersion && change.canaryVersion === change.stableVersion) problems.push('canary_version: must differ from stable_version');
  if (!change.canaryVersion && change.canaryWeight !== 0) problems.push('canary_weight: must be 0 without a canary_version');
  if (!Number.isInteger(change.mirrorPercent) || change.mirrorPercent < 0 || change.mirrorPercent > 100) {
    problems.push(`mirror_percent: must be from 0 to 100 (got ${change.mirrorPercent})`);
  } else if (!change.canaryVersion && change.mirrorPercent !== 0) {
    problems.push('mirror_percent: must be 0 without a canary_version (there is nothing to mirror to)');
  }
  return problems;
}

function toRollout(model: string, row: RolloutRow | undefined): Rollout__Output {
  if (!row) return { model, stable_version: '', canary_version: '', canary_weight: 0, mirror_percent: 0, revision: 0, updated_at: '' };
  return {
    model,
    stable_version: row.stable_version,
    canary_version: row.canary_version,
    canary_weight: row.canary_weight,
    mirror_percent: row.mirror_percent,
    revision: row.revision,
    updated_at: row.updated_at,
  };
}

function toAlias(row: AliasRow): Alias__Output {
  return { name: row.name, version: row.version, revision: row.revision, updated_at: row.updated_at };
}

/** Freezes a parsed JSON value and everything in it. */
function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

function groupBy<T, K>(rows: T[], key: (row: T) => K): Map<K, T[]> {
  const groups = new Map<K, T[]>();
  for (const row of rows) {
    const group = groups.get(key(row));
    if (group) group.push(row);
    else groups.set(key(row), [row]);
  }
  return groups;
}

function readSchemaVersion(db: Database.Database): number {
  const table = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'").get();
  if (!table) return 0;
  const row = db.prepare('SELECT version FROM schema_version').get() as { version: number } | undefined;
  return row?.version ?? 0;
}

/** Brings the schema to SCHEMA_VERSION; refuses a database written by a newer registry. */
function migrate(db: Database.Database): void {
  db.transaction(() => {
    db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)');
    const current = readSchemaVersion(db);
    if (current > SCHEMA_VERSION) {
      throw new Error(`registry database schema version ${current} is newer than this registry understands (${SCHEMA_VERSION}); upgrade the registry`);
    }
    for (let version = current; version < SCHEMA_VERSION; version += 1) db.exec(MIGRATIONS[version]!);
    db.prepare('DELETE FROM schema_version').run();
    db.prepare('INSERT INTO schema_version (version) VALUES (?)').run(SCHEMA_VERSION);
  }).immediate();
}
