import test from 'ava';
import { allowedIdentities, MESH_METHOD_POLICY, serviceIdentity } from '../src/peer-identity.js';

const allowed = (method: string, who: string) => allowedIdentities(MESH_METHOD_POLICY, `/maas.v1.ModelRegistry/${method}`).includes(serviceIdentity(who));

test("registry table: every service reads; writes are the admin's; the rollout controller sets rollouts and aliases only", (t) => {
  for (const reader of ['gateway', 'tokenizer', 'inference', 'rollout-controller', 'admin']) {
    for (const method of ['ListModels', 'GetModel', 'GetVersion', 'DownloadArtifact']) t.true(allowed(method, reader), `${reader} ${method}`);
  }
  for (const method of ['SetRollout', 'SetAlias']) {
    t.true(allowed(method, 'rollout-controller'), method);
    t.true(allowed(method, 'admin'), method);
    t.false(allowed(method, 'gateway'), method);
  }
  // Registering, storage repair, the audit log and any method the table does not name: the admin alone.
  for (const method of ['RegisterVersion', 'CheckStorage', 'ListAuditEvents', 'SomeFutureWrite']) {
    t.true(allowed(method, 'admin'), method);
    for (const other of ['rollout-controller', 'gateway', 'inference', 'tokenizer']) t.false(allowed(method, other), `${other} ${method}`);
  }
});
