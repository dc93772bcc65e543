/**
 * The registry's audit log: every write (who, what, when, from which revision to which) in the registry's own
 * SQLite database (table audit_log, beside the data it describes), readable with ListAuditEvents
 * (`maasctl audit`) and published on NATS as `maas.events.registry.<model>.audit-recorded`.
 *
 * It wraps the handlers rather than living in them: every method that is not a known read is a write and is
 * recorded, so a write method added later is audited without anyone remembering to. A row is written right
 * after the write commits and before the caller gets its answer. CheckStorage counts as a write only with
 * repair (then it may remove blobs); it concerns no single model, so its row has an empty model.
 */
import type * as grpc from '@grpc/grpc-js';
import Database from 'better-sqlite3';
import { messageCodec, type AuditEvent, type AuditEvent__Output, type ListAuditEventsRequest__Output, type ListAuditEventsResponse } from '@maas/protos';
import { callerIdentity, invalidArgument, unary, type EventBus, type HandlerContext } from '@maas/shared';

/** Methods that change nothing: not audited. */
const READ_METHODS = new Set(['ListModels', 'GetModel', 'GetVersion', 'DownloadArtifact', 'ListAuditEvents']);
/** Methods that change something only when asked to: CheckStorage is a read (fsck) unless it repairs. */
const WRITES_WHEN: Readonly<Record<string, (request: unknown) => boolean>> = {
  CheckStorage: (request) => (request as { repair?: boolean } | undefined)?.repair === true,
};
/** The subject token of a write that concerns no single model (a storage repair): not a valid model name. */
const NO_MODEL_TOKEN = '_registry';
const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 1_000;

const auditEventCodec = messageCodec<AuditEvent, AuditEvent__Output>('maas.v1.AuditEvent');

/** The NATS subject of a model's audit events. */
export function auditSubject(model: string): string {
  return `maas.events.registry.${model || NO_MODEL_TOKEN}.audit-recorded`;
}

export class AuditLog {
  private readonly insert: Database.Statement;
  private readonly byModel: Database.Statement;
  private readonly all: Database.Statement;

  /** Opens the log in the registry's database file (a connection of its own; the table is made if missing). */
  constructor(file: string) {
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.exec(`CREATE TABLE IF NOT EXISTS audit_log (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      occurred_at TEXT NOT NULL,
      actor TEXT NOT NULL,
      action TEXT NOT NULL,
      model TEXT NOT NULL,
      details_json TEXT NOT NULL,
      from_revision INTEGER NOT NULL,
      to_revision INTEGER NOT NULL
    );
    CREATE INDEX IF NOT EXISTS audit_log_by_model ON audit_log (model, id);`);
    this.insert = this.db.prepare(
      'INSERT INTO audit_log (occurred_at, actor, action, model, details_json, from_revision, to_revision) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id',
    );
    this.byModel = this.db.prepare('SELECT * FROM audit_log WHERE model = ? ORDER BY id DESC LIMIT ?');
    this.all = this.db.prepare('SELECT * FROM audit_log ORDER BY id DESC LIMIT ?');
  }

  private readonly db: Database.Database;

  record(event: Omit<AuditEvent__Output, 'id'>): AuditEvent__Output {
    const { id } = this.insert.get(event.occurred_at, event.actor, event.action, event.model, event.details_json, event.from_revision, event.to_revision) as {
      id: number;
    };
    return { ...event, id };
  }

  list(options: { model: string; limit: number }): AuditEvent__Output[] {
    const rows = (options.model ? this.byModel.all(options.model, options.limit) : this.all.all(options.limit)) as AuditEvent__Output[];
    return rows.map((row) => ({ ...row, id: Number(row.id), from_revision: Number(row.from_revision), to_revision: Number(row.to_revision) }));
  }

  close(): void {
    this.db.close();
  }
}

/** What a write's arguments look like in the log: its request, file bytes replaced by their size. */
function describeRequest(request: unknown): string {
  return JSON.stringify(request ?? {}, (_key, value: unknown) => (Buffer.isBuffer(value) || value instanceof Uint8Array ? `<${value.length} bytes>` : value));
}

export interface AuditedHandlersOptions {
  audit: AuditLog;
  /** The registry revision now (read before and after each write). */
  revision: () => number;
  bus: EventBus;
  ctx: HandlerContext;
}

/**
 * `handlers` with every write recorded in `audit` (and published), plus ListAuditEvents. A write that fails
 * is not recorded: it changed nothing.
 */
export function auditedHandlers<T extends grpc.UntypedServiceImplementation>(
  handlers: T,
  options: AuditedHandlersOptions,
): T & { ListAuditEvents: grpc.handleUnaryCall<ListAuditEventsRequest__Output, ListAuditEventsResponse> } {
  const { audit, ctx } = options;
  const wrapped: grpc.UntypedServiceImplementation = {};
  for (const [method, handler] of Object.entries(handlers)) {
    if (READ_METHODS.has(method)) {
      wrapped[method] = handler;
      continue;
    }
    // Unary and client-streaming writes both answer through (call, callback).
    const write = handler as (call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => void;
    const writes = WRITES_WHEN[method];
    wrapped[method] = ((call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      if (writes && !writes((call as { request?: unknown }).request)) return write(call, callback);
      const fromRevision = options.revision();
      write(call, (error, response, ...rest) => {
        if (!error && response) {
          const result = response as { model?: string };
          const request = (call as { request?: { model?: string } }).request;
          const event = audit.record({
            occurred_at: new Date().toISOString(),
            actor: callerIdentity(call) || 'plaintext',
            action: method,
            model: result.model ?? request?.model ?? '',
            details_json: describeRequest(request ? { ...request, ...removedBlobs(response) } : summarize(response)),
            from_revision: fromRevision,
            to_revision: options.revision(),
          });
          ctx.logger.info({ audit: event }, 'registry write audited');
          void options.bus.publish(auditSubject(event.model), auditEventCodec.encode(event)).catch(() => false);
        }
        callback(error, response, ...(rest as []));
      });
    }) as grpc.UntypedHandleCall;
  }
  const ListAuditEvents = unary<ListAuditEventsRequest__Output, ListAuditEventsResponse>(
    'ListAuditEvents',
    async (request) => {
      if (request.limit > MAX_LIMIT) throw invalidArgument(`limit ${request.limit} is above ${MAX_LIMIT}`);
      return { events: audit.list({ model: request.model, limit: request.limit || DEFAULT_LIMIT }) };
    },
    ctx,
  );
  return { ...(wrapped as T), ListAuditEvents };
}

/** What a storage repair removed (CheckStorage's answer), so the log says which blobs went; nothing for other writes. */
function removedBlobs(response: unknown): { removed?: Array<{ sha256: string; used_by: unknown }> } {
  const damaged = (response as { damaged?: Array<{ sha256: string; removed: boolean; used_by: unknown }> }).damaged;
  return damaged ? { removed: damaged.filter((blob) => blob.removed).map(({ sha256, used_by }) => ({ sha256, used_by })) } : {};
}

/** A streamed write (RegisterVersion) has no request object: its reply names what it wrote. */
function summarize(response: unknown): unknown {
  const version = response as { model?: string; version?: string; artifacts?: Array<{ path: string; sha256: string; size_bytes: number }> };
  return { model: version.model, version: version.version, files: version.artifacts?.map(({ path, sha256, size_bytes }) => ({ path, sha256, size_bytes })) };
}
