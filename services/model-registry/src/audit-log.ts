/**
 * The registry's audit log: every write (who, what, when, from which revision to which) in the registry's own
 * SQLite database (table audit_log, beside the data it describes), readable with ListAuditEvents
 * (`maasctl audit`) and published on NATS as `maas.events.registry.<model>.audit-recorded`.
 *
 * It wraps the handlers rather than living in them: every method that is not a known read is a write and is
 * recorded, so a write method added later is audited without anyone remembering to. The row is written inside
 * the write's own database transaction (the store's write hook, on the store's connection): the write and its
 * row commit together or not at all, so no crash can leave one without the other, and a row that cannot be
 * written fails the write. The wrapper tells the hook who is writing through an AsyncLocalStorage scope around
 * the handler. A write method that changes no database row (a storage repair removes blobs; an identical
 * upload repairs blobs; setting what is already set) gets its row when it succeeds, as there is no transaction
 * to join. The NATS event follows the commit. CheckStorage counts as a write only with repair (then it may
 * remove blobs); it concerns no single model, so its row has an empty model.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type * as grpc from '@grpc/grpc-js';
import type Database from 'better-sqlite3';
import { messageCodec, type AuditEvent, type AuditEvent__Output, type ListAuditEventsRequest__Output, type ListAuditEventsResponse } from '@maas/protos';
import { callerIdentity, invalidArgument, unary, type EventBus, type HandlerContext } from '@maas/shared';
import type { RegistryStore } from './registry-store.js';

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

/** The audited call a write belongs to, while its handler runs. */
interface PendingAudit {
  actor: string;
  action: string;
  /** The request, for unary writes (a streamed upload has none: the store's summary stands in). */
  request: unknown;
  /** Rows written in the call's write transactions (committed with them). */
  recorded: AuditEvent__Output[];
}

const pendingAudits = new AsyncLocalStorage<PendingAudit>();

/** Who a write is recorded as when no audited call is around it (the store used directly). */
const UNATTRIBUTED = { actor: 'registry', action: 'internal' } as const;

export class AuditLog {
  private readonly insert: Database.Statement;
  private readonly byModel: Database.Statement;
  private readonly all: Database.Statement;
  private readonly db: Database.Database;

  /**
   * The log in the store's database, on the store's own connection (the table is made if missing), hooked into
   * every write transaction of `store`.
   */
  constructor(private readonly store: RegistryStore) {
    this.db = store.connection;
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
    store.onWrite((write) => {
      const pending = pendingAudits.getStore();
      const event = this.record({
        occurred_at: new Date().toISOString(),
        actor: pending?.actor ?? UNATTRIBUTED.actor,
        action: pending?.action ?? UNATTRIBUTED.action,
        model: write.model,
        details_json: describeRequest(pending?.request ?? write.summary),
        from_revision: write.fromRevision,
        to_revision: write.toRevision,
      });
      pending?.recorded.push(event);
    });
  }

  /** Writes one row now (in the transaction of the caller, if it is in one). */
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

  /** Unhooks the log from the store (the connection is the store's to close). */
  close(): void {
    this.store.onWrite(undefined);
  }
}

/** What a write's arguments look like in the log: its request, file bytes replaced by their size. */
function describeRequest(request: unknown): string {
  return JSON.stringify(request ?? {}, (_key, value: unknown) => (Buffer.isBuffer(value) || value instanceof Uint8Array ? `<${value.length} bytes>` : value));
}

export interface AuditedHandlersOptions {
  audit: AuditLog;
  /** The registry revision now (the row of a write that changed no database row). */
  revision: () => number;
  bus: EventBus;
  ctx: HandlerContext;
}

/**
 * `handlers` with every write recorded in `audit` (and published), plus ListAuditEvents. A write that fails
 * is not recorded: its transaction, row included, rolled back. (A call that fails after its transaction
 * committed keeps its row and its event: the write happened.)
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
      const request = (call as { request?: { model?: string } }).request;
      const pending: PendingAudit = { actor: callerIdentity(call) || 'plaintext', action: method, request, recorded: [] };
      const fromRevision = options.revision();
      const announce = (event: AuditEvent__Output) => {
        ctx.logger.info({ audit: event }, 'registry write audited');
        void options.bus.publish(auditSubject(event.model), auditEventCodec.encode(event)).catch(() => false);
      };
      pendingAudits.run(pending, () =>
        write(call, (error, response, ...rest) => {
          // Rows already committed with their writes: published after the commit, even if the call then failed.
          for (const event of pending.recorded) announce(event);
          if (!error && response && pending.recorded.length === 0) {
            // A write that changed no row of the database (nothing to join): its row now, before the answer.
            const result = response as { model?: string };
            announce(
              audit.record({
                occurred_at: new Date().toISOString(),
                actor: pending.actor,
                action: method,
                model: result.model ?? request?.model ?? '',
                details_json: describeRequest(request ? { ...request, ...removedBlobs(response) } : summarize(response)),
                from_revision: fromRevision,
                to_revision: options.revision(),
              }),
            );
          }
          callback(error, response, ...(rest as []));
        }),
      );
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
