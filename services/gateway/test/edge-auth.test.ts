// The gateway's door over real gRPC and TLS: every credential case on Classify and OIP ModelInfer, with the
// downstream services absent (a call that gets past the door fails later, with another code).
import fs from 'node:fs';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { contracts, Status, type GatewayClient, type GRPCInferenceServiceClient } from '@maas/protos';
import { checkHealth, createApiKey, createClient, createLogger, revokeApiKey, unaryCall } from '@maas/shared';
import test from 'ava';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { eventually } from '../../../test/support/eventually.js';
import { testPki, type TestPki } from '../../../test/support/test-pki.js';
import { loadConfig, startGatewayService, type RunningGatewayService } from '../src/index.js';

const NOWHERE = '127.0.0.1:1';
const ISSUER = 'https://issuer.test';
type SigningKey = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];

let pki: TestPki;
let gateway: RunningGatewayService;
let keysFile: string;
let signingKey: SigningKey;
let otherKey: SigningKey;

test.before(async () => {
  pki = await testPki();
  const dir = fs.mkdtempSync(path.join(pki.dir, 'edge-'));
  keysFile = path.join(dir, 'api-keys.json');
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  signingKey = privateKey;
  otherKey = (await generateKeyPair('ES256')).privateKey;
  const jwksFile = path.join(dir, 'jwks.json');
  fs.writeFileSync(jwksFile, JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' }] }));
  createApiKey(keysFile, { owner: 'nobody', scopes: [] });
  gateway = await startGatewayService(
    loadConfig({
      ...pki.env('gateway'),
      API_KEYS_FILE: keysFile,
      JWT_JWKS_FILE: jwksFile,
      JWT_ISSUERS: ISSUER,
      GRPC_HOST: '127.0.0.1',
      GRPC_PORT: '0',
      METRICS_PORT: '-1',
      REGISTRY_ADDRESS: NOWHERE,
      TOKENIZER_ADDRESS: NOWHERE,
      INFERENCE_ADDRESS: NOWHERE,
      NATS_URL: 'nats://127.0.0.1:1',
      SHUTDOWN_GRACE_MS: '0',
    }),
    { logger: createLogger({ service: 'gateway', level: 'silent' }) },
  );
});

test.after.always(async () => {
  await gateway?.stop();
});

function clients(token: string | undefined): { gateway: GatewayClient; oip: GRPCInferenceServiceClient; close(): void } {
  // The admin certificate is irrelevant at the gateway: its door looks at the bearer token only.
  const options = token === undefined ? { ...pki.clientOptions('admin'), credentials: pki.credentials('admin') } : pki.clientOptions('admin', token);
  const address = `127.0.0.1:${gateway.port}`;
  const result = {
    gateway: createClient(contracts().maas.v1.Gateway, address, options),
    oip: createClient(contracts().inference.GRPCInferenceService, address, options),
  };
  return { ...result, close: () => (result.gateway.close(), result.oip.close()) };
}

async function codes(token: string | undefined, model = 'sentiment'): Promise<{ classify: grpc.ServiceError; infer: grpc.ServiceError }> {
  const { gateway: g, oip, close } = clients(token);
  try {
    const failure = (promise: Promise<unknown>) =>
      promise.then(
        () => {
          throw new Error('expected a refusal');
        },
        (error: grpc.ServiceError) => error,
      );
    return {
      classify: await failure(unaryCall((r, md, o, cb) => g.Classify(r, md, o, cb), { model, texts: ['a'] }, { deadline: 5_000 })),
      infer: await failure(unaryCall((r, md, o, cb) => oip.ModelInfer(r, md, o, cb), { model_name: model, inputs: [] }, { deadline: 5_000 })),
    };
  } finally {
    close();
  }
}

const jwt = (claims: Record<string, unknown>, options: { key?: SigningKey; issuer?: string; expires?: string | number } = {}) =>
  new SignJWT(claims)
    .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
    .setIssuer(options.issuer ?? ISSUER)
    .setSubject('svc-a')
    .setIssuedAt()
    .setExpirationTime(options.expires ?? '5m')
    .sign(options.key ?? signingKey);

test('no token, a malformed or unknown one: UNAUTHENTICATED on Classify and ModelInfer; health stays open', async (t) => {
  for (const [label, token, message] of [
    ['none', undefined, /needs a bearer token/],
    ['unknown key', 'maas_000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', /unknown or revoked/],
    ['garbage', 'not-a-token', /not a valid API key|could not be verified/],
  ] as const) {
    const { classify, infer } = await codes(token);
    for (const error of [classify, infer]) {
      t.is(error.code, Status.UNAUTHENTICATED, label);
      t.regex(error.details, message, label);
    }
  }
  t.is(
    await checkHealth(`127.0.0.1:${gateway.port}`, { credentials: pki.credentials('admin'), channelOptions: pki.clientOptions('admin').channelOptions }),
    'NOT_SERVING',
  );
});

test('API keys: scopes per model and method (PERMISSION_DENIED), revocation within seconds', async (t) => {
  const { token: classifyOnly } = createApiKey(keysFile, { owner: 'team-a', scopes: ['classify:sentiment'] });
  const { token: everything, record } = createApiKey(keysFile, { owner: 'team-b', scopes: ['*'] });
  // The gateway rereads the file: wait until the new key passes the door (then it fails downstream instead).
  await eventually('the new key accepted', async () => (await codes(everything)).classify.code !== Status.UNAUTHENTICATED);

  const scoped = await codes(classifyOnly);
  t.not(scoped.classify.code, Status.PERMISSION_DENIED, 'classify:sentiment may Classify sentiment');
  t.not(scoped.classify.code, Status.UNAUTHENTICATED);
  t.is(scoped.infer.code, Status.PERMISSION_DENIED);
  t.is(scoped.infer.details, 'this credential has no "infer" scope for model "sentiment"');
  t.is((await codes(classifyOnly, 'other-model')).classify.code, Status.PERMISSION_DENIED);

  revokeApiKey(keysFile, record.id);
  await eventually('the revoked key refused', async () => (await codes(everything)).classify.code === Status.UNAUTHENTICATED);
  t.regex((await codes(everything)).infer.details, /unknown or revoked/);
});

test('JWTs: a valid one passes; expired, wrong issuer, foreign signature: UNAUTHENTICATED; scope claim checked', async (t) => {
  const valid = await codes(await jwt({ scope: 'classify:* infer:*' }));
  t.false([Status.UNAUTHENTICATED, Status.PERMISSION_DENIED].includes(valid.classify.code), valid.classify.details);
  t.false([Status.UNAUTHENTICATED, Status.PERMISSION_DENIED].includes(valid.infer.code), valid.infer.details);

  const expired = await codes(await jwt({ scope: '*' }, { expires: Math.floor(Date.now() / 1000) - 60 }));
  t.like(expired.classify, { code: Status.UNAUTHENTICATED, details: 'the JWT has expired' });
  const issuer = await codes(await jwt({ scope: '*' }, { issuer: 'https://elsewhere.test' }));
  t.like(issuer.infer, { code: Status.UNAUTHENTICATED, details: 'the JWT is from an issuer this gateway does not trust' });
  const forged = await codes(await jwt({ scope: '*' }, { key: otherKey }));
  t.like(forged.classify, { code: Status.UNAUTHENTICATED, details: 'the JWT could not be verified' });
  const narrow = await codes(await jwt({ scope: 'classify:sentiment' }));
  t.is(narrow.infer.code, Status.PERMISSION_DENIED);
});
