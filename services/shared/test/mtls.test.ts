import fs from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { contracts, type EncodeRequest, type EncodeResponse__Output } from '@maas/protos';
import test from 'ava';
import { eventually } from '../../../test/support/eventually.js';
import { testPki } from '../../../test/support/test-pki.js';
import { configReader } from '../src/config.js';
import { checkHealth, createClient, unaryCall } from '../src/grpc-client.js';
import { freePort } from '../src/free-port.js';
import { startGrpcServer, type RunningGrpcServer } from '../src/grpc-server.js';
import { unary } from '../src/handlers.js';
import { createCertificateAuthority, identityFiles, issueCertificate, writeIdentityFiles } from '../src/local-pki.js';
import { createLogger } from '../src/logger.js';
import { createServiceMetrics } from '../src/metrics.js';
import { connectionOf } from '../src/peer-identity.js';
import { channelCredentials, MESH_SERVER_NAME, meshClientOptions, meshServerSecurity, tlsConfig, type TlsConfig } from '../src/tls-credentials.js';

const logger = createLogger({ service: 'test', level: 'silent' });
const tlsOf = (env: Record<string, string>): TlsConfig => tlsConfig(configReader({ TLS_RELOAD_MS: '50', ...env }));

/** A Tokenizer server (trivial Encode: the transport is under test) with the mesh's method policy. */
async function startTokenizerServer(tls: TlsConfig, healthPort = -1): Promise<RunningGrpcServer> {
  const ctx = { logger, metrics: createServiceMetrics({ service: 'test' }) };
  return startGrpcServer({
    host: '127.0.0.1',
    port: 0,
    logger,
    security: meshServerSecurity({ tls, healthPort, logger }),
    services: [
      {
        name: 'maas.v1.Tokenizer',
        definition: contracts().maas.v1.Tokenizer.service,
        implementation: { Encode: unary<EncodeRequest, object>('Encode', async () => ({ sequences: [] }), ctx) },
      },
    ],
  });
}

function encode(port: number, credentials: grpc.ChannelCredentials) {
  const client = createClient(contracts().maas.v1.Tokenizer, `127.0.0.1:${port}`, {
    credentials,
    channelOptions: { 'grpc.ssl_target_name_override': MESH_SERVER_NAME },
  });
  return unaryCall<EncodeRequest, EncodeResponse__Output>(
    (r, md, o, cb) => client.Encode(r, md, o, cb),
    { model: 'm', version: '1', texts: ['a'] },
    { deadline: 3_000 },
  ).finally(() => client.close());
}

test('mTLS: the gateway may Encode; another service, no certificate, another CA and plaintext are refused', async (t) => {
  const pki = await testPki();
  const server = await startTokenizerServer(tlsOf(pki.env('tokenizer')));
  t.teardown(() => server.stop({ graceMs: 0, deadlineMs: 1_000 }));

  await t.notThrowsAsync(encode(server.port, pki.credentials('gateway')));
  await t.throwsAsync(encode(server.port, pki.credentials('inference')), {
    code: grpc.status.PERMISSION_DENIED,
    message: /spiffe:\/\/maas\/inference may not call \/maas.v1.Tokenizer\/Encode/,
  } as never);

  // TLS that trusts the mesh CA but presents no certificate: the handshake is refused.
  const noCertificate = grpc.credentials.createSsl(fs.readFileSync(pki.files.gateway.caFile), null, null, { checkServerIdentity: () => undefined });
  await t.throwsAsync(encode(server.port, noCertificate), { code: grpc.status.UNAVAILABLE } as never);

  // A certificate for the right name, from a CA the server does not trust.
  const otherCa = await createCertificateAuthority({ name: 'other CA' });
  const impostor = await issueCertificate(otherCa, { name: 'gateway' });
  const otherDir = fs.mkdtempSync(path.join(tmpdir(), 'maas-other-ca-'));
  t.teardown(() => fs.rmSync(otherDir, { recursive: true, force: true }));
  const impostorFiles = identityFiles(otherDir, 'gateway');
  // It trusts the mesh CA (so it would accept the server): only the server's check can stop it.
  writeIdentityFiles(impostorFiles, impostor, { certificatePem: fs.readFileSync(pki.files.gateway.caFile, 'utf8') });
  await t.throwsAsync(
    encode(
      server.port,
      channelCredentials(tlsOf({ TLS_CERT_FILE: impostorFiles.certFile, TLS_KEY_FILE: impostorFiles.keyFile, TLS_CA_FILE: impostorFiles.caFile })),
    ),
    { code: grpc.status.UNAVAILABLE } as never,
  );

  await t.throwsAsync(encode(server.port, grpc.credentials.createInsecure()), { code: grpc.status.UNAVAILABLE } as never);
});

test('identities are read once per connection and never mixed up between connections', async (t) => {
  const pki = await testPki();
  const server = await startTokenizerServer(tlsOf(pki.env('tokenizer')));
  t.teardown(() => server.stop({ graceMs: 0, deadlineMs: 1_000 }));
  const clientOf = (name: 'gateway' | 'inference') =>
    createClient(contracts().maas.v1.Tokenizer, `127.0.0.1:${server.port}`, {
      credentials: pki.credentials(name),
      channelOptions: { 'grpc.ssl_target_name_override': MESH_SERVER_NAME },
    });
  const gateway = clientOf('gateway');
  const inference = clientOf('inference');
  t.teardown(() => [gateway, inference].forEach((client) => client.close()));
  const call = (client: ReturnType<typeof clientOf>) =>
    unaryCall<EncodeRequest, EncodeResponse__Output>(
      (r, md, o, cb) => client.Encode(r, md, o, cb),
      { model: 'm', version: '1', texts: ['a'] },
      { deadline: 3_000 },
    );
  // Interleaved on two long-lived connections: each answer is its own connection's verdict, every time.
  for (let round = 0; round < 5; round++) {
    const [allowed, refused] = await Promise.allSettled([call(gateway), call(inference)]);
    t.is(allowed.status, 'fulfilled');
    t.is(refused.status === 'rejected' && (refused.reason as grpc.ServiceError).code, grpc.status.PERMISSION_DENIED);
  }
});

test('connectionOf finds the HTTP/2 session of a call through the interceptor chain (grpc-js internals it relies on)', async (t) => {
  const seen: Array<object | undefined> = [];
  const server = new grpc.Server({
    interceptors: [
      (_method, call) => {
        seen.push(connectionOf(call));
        return new grpc.ServerInterceptingCall(call);
      },
      // A second interceptor: the lookup must also get through an outer one's wrapper.
      (_method, call) => new grpc.ServerInterceptingCall(call),
    ],
  });
  server.addService(contracts().maas.v1.Tokenizer.service, { Encode: (_call: unknown, callback: grpc.sendUnaryData<object>) => callback(null, {}) });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  t.teardown(() => server.forceShutdown());
  // A local subchannel pool each: two connections (grpc-js would otherwise share one between equal clients).
  const clients = [0, 1].map(() =>
    createClient(contracts().maas.v1.Tokenizer, `127.0.0.1:${port}`, {
      credentials: grpc.credentials.createInsecure(),
      channelOptions: { 'grpc.use_local_subchannel_pool': 1 },
    }),
  );
  t.teardown(() => clients.forEach((client) => client.close()));
  for (const client of [clients[0]!, clients[0]!, clients[1]!]) {
    await unaryCall<EncodeRequest, EncodeResponse__Output>(
      (r, md, o, cb) => client.Encode(r, md, o, cb),
      { model: 'm', version: '1', texts: ['a'] },
      { deadline: 3_000 },
    );
  }
  t.is(seen.length, 3);
  t.true(
    seen.every((session) => typeof session === 'object'),
    'a session was found for every call',
  );
  t.is(seen[0], seen[1], 'one connection, one session');
  t.not(seen[0], seen[2], 'another connection, another session');
});

test('certificate rotation: new files are picked up without a restart and no call fails meanwhile', async (t) => {
  const pki = await testPki();
  // The server's files in a folder of its own, as a mounted Secret that cert-manager rewrites.
  const dir = fs.mkdtempSync(path.join(tmpdir(), 'maas-rotate-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const serverFiles = identityFiles(dir, 'tokenizer');
  for (const key of ['certFile', 'keyFile', 'caFile'] as const) {
    fs.mkdirSync(path.dirname(serverFiles[key]), { recursive: true });
    fs.copyFileSync(pki.files.tokenizer[key], serverFiles[key]);
  }
  const server = await startTokenizerServer(tlsOf({ TLS_CERT_FILE: serverFiles.certFile, TLS_KEY_FILE: serverFiles.keyFile, TLS_CA_FILE: serverFiles.caFile }));
  t.teardown(() => server.stop({ graceMs: 0, deadlineMs: 1_000 }));

  // A new CA takes over: the server will present a certificate from it and trust both during the change.
  const newCa = await createCertificateAuthority({ name: 'rotated CA' });
  const bothCas = fs.readFileSync(pki.files.tokenizer.caFile, 'utf8') + newCa.certificatePem;
  const newGatewayFiles = identityFiles(dir, 'new-gateway');
  writeIdentityFiles(newGatewayFiles, await issueCertificate(newCa, { name: 'gateway' }), newCa);
  const newClient = () =>
    channelCredentials(tlsOf({ TLS_CERT_FILE: newGatewayFiles.certFile, TLS_KEY_FILE: newGatewayFiles.keyFile, TLS_CA_FILE: newGatewayFiles.caFile }));
  // Before: the server does not trust the new CA's clients.
  await t.throwsAsync(encode(server.port, newClient()), { code: grpc.status.UNAVAILABLE } as never);

  // An old-CA client (trusting both CAs, as its own rotated bundle would) calls throughout the rotation.
  const oldClientFiles = identityFiles(dir, 'old-gateway');
  writeIdentityFiles(
    oldClientFiles,
    { certificatePem: fs.readFileSync(pki.files.gateway.certFile, 'utf8'), keyPem: fs.readFileSync(pki.files.gateway.keyFile, 'utf8') },
    { certificatePem: bothCas },
  );
  const oldClient = createClient(
    contracts().maas.v1.Tokenizer,
    `127.0.0.1:${server.port}`,
    meshClientOptions(tlsOf({ TLS_CERT_FILE: oldClientFiles.certFile, TLS_KEY_FILE: oldClientFiles.keyFile, TLS_CA_FILE: oldClientFiles.caFile })),
  );
  t.teardown(() => oldClient.close());
  let calls = 0;
  let failures = 0;
  let running = true;
  const traffic = (async () => {
    while (running) {
      await unaryCall<EncodeRequest, EncodeResponse__Output>(
        (r, md, o, cb) => oldClient.Encode(r, md, o, cb),
        { model: 'm', version: '1', texts: ['a'] },
        { deadline: 3_000 },
      ).then(
        () => calls++,
        () => failures++,
      );
    }
  })();

  writeIdentityFiles(serverFiles, await issueCertificate(newCa, { name: 'tokenizer' }), { certificatePem: bothCas });
  await eventually('the rotated server accepts a client of the new CA', () => encode(server.port, newClient()).then(() => true));
  running = false;
  await traffic;
  t.true(calls > 0);
  t.is(failures, 0);
});

test('HEALTH_PORT: plaintext health checks for probes, and nothing else on that port', async (t) => {
  const pki = await testPki();
  // The health-only interceptor knows its port by number, so the port is picked beforehand (freePort draws
  // outside the ephemeral range, where no other bind can take it meanwhile).
  const healthPort = await freePort();
  const server = await startTokenizerServer(tlsOf(pki.env('tokenizer')), healthPort);
  t.teardown(() => server.stop({ graceMs: 0, deadlineMs: 1_000 }));
  t.is(server.healthPort, healthPort);
  server.setServing(true);
  t.is(await checkHealth(`127.0.0.1:${healthPort}`), 'SERVING');
  await t.throwsAsync(encode(healthPort, grpc.credentials.createInsecure()), {
    code: grpc.status.PERMISSION_DENIED,
    message: /serves health checks only/,
  } as never);
  // The service port still wants its client certificate.
  await t.throwsAsync(checkHealth(`127.0.0.1:${server.port}`));
  await t.notThrowsAsync(encode(server.port, pki.credentials('gateway')));
});

// Every test above closes its clients and stops its servers, yet in about one run in several this file's
// process stayed alive after the last test (ava then times the whole run out): a TLS handshake refused by
// design (no certificate, another CA) can leave a socket open inside grpc-js for a while. The tests have
// passed by then; once they all have, exit shortly even if such a socket lingers. The timer is unref'd, so a
// process that ends on its own is not held up.
test.after.always(() => {
  setTimeout(() => process.exit(process.exitCode ?? 0), 5_000).unref();
});
