/**
 * The bench's naive peer (bench/harness/naive-peer-server.ts) is secured as the gateway's edge is, so the paired
 * ratios compare like with like: TLS with a certificate of the bench's mesh CA, and a bearer token checked on
 * every call. What the load generator presents gets answers; no token, another token or plaintext does not.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { Status, type ClassifyResponse__Output } from '@maas/protos';
import { configReader, identityFiles, meshClientOptions, tlsConfig, withBearerToken } from '@maas/shared';
import test from 'ava';
import { classifyRequests, startNaivePeer } from '../../bench/harness/paired-baseline.js';
import { callOnce, createRawUnaryClient } from '../../bench/harness/raw-unary-client.js';
import { ROOT_DIR } from '../support/example-models.js';

test('the naive peer serves TLS from the mesh CA and answers only calls with its token', async (t) => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'maas-peer-'));
  t.teardown(() => fs.rmSync(dataDir, { recursive: true, force: true }));
  const peer = await startNaivePeer({ rootDir: ROOT_DIR, dataDir });
  t.teardown(() => peer.stop());
  const requests = classifyRequests(['a wonderful film', 'cold food and rude staff'], { model: 'sentiment', textsPerRequest: 2, distinct: 1 });

  // What the load generator presents: TLS trusting the mesh CA, and the token.
  await peer.check(requests, { texts: 2 });
  const callWith = async (options: Parameters<typeof createRawUnaryClient>[1]) => {
    const client = createRawUnaryClient(peer.address, options);
    try {
      return await callOnce<ClassifyResponse__Output>(client, requests, 0, 10_000);
    } finally {
      client.close();
    }
  };
  t.is((await callWith(peer.clientOptions)).predictions.length, 2);

  const codeOf = async (options: Parameters<typeof createRawUnaryClient>[1]) => ((await t.throwsAsync(callWith(options))) as grpc.ServiceError).code;
  // TLS without a token, with another token: refused at every call.
  const admin = identityFiles(path.join(dataDir, 'pki'), 'admin');
  const tlsOnly = meshClientOptions(tlsConfig(configReader({ TLS_CERT_FILE: admin.certFile, TLS_KEY_FILE: admin.keyFile, TLS_CA_FILE: admin.caFile })));
  t.is(await codeOf(tlsOnly), Status.UNAUTHENTICATED);
  t.is(await codeOf(withBearerToken(tlsOnly, 'peer_not-the-token')), Status.UNAUTHENTICATED);
  // Plaintext: no TLS handshake, no answer.
  t.is(await codeOf({}), Status.UNAVAILABLE);
});
