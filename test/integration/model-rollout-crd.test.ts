// The ModelRollout CRD checked offline, as an API server would check a document: its OpenAPI v3 schema with
// ajv (JSON Schema), its x-kubernetes-validations CEL rules with cel-js, on the dev overlay's example and on
// broken variants; the controller's own validation (local documents, maasctl apply) must agree on each one.
// Plus the manifest checker's rollouts rules: RBAC that lacks what the controller calls, replicas without
// leader election.
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { validateModelRollout } from '@maas/rollout-controller';
import Ajv from 'ajv';
import test from 'ava';
import { parse } from 'yaml';
import { ROOT_DIR } from '../support/example-models.js';

type Schema = Record<string, any>;

const crd = parse(fs.readFileSync(path.join(ROOT_DIR, 'k8s/components/rollouts/model-rollout-crd.yaml'), 'utf8'));
const example = parse(fs.readFileSync(path.join(ROOT_DIR, 'k8s/overlays/dev/model-rollout-sentiment.yaml'), 'utf8'));
const version = crd.spec.versions.find((entry: Schema) => entry.name === 'v1alpha1');
const openApi: Schema = version.schema.openAPIV3Schema;

/** The schema as JSON Schema: Kubernetes' own keywords (x-kubernetes-*) are not JSON Schema. */
function jsonSchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(jsonSchema);
  if (!node || typeof node !== 'object') return node;
  return Object.fromEntries(
    Object.entries(node)
      .filter(([key]) => !key.startsWith('x-kubernetes-'))
      .map(([key, value]) => [key, jsonSchema(value)]),
  );
}
const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false });
const validateSchema = ajv.compile(jsonSchema(openApi) as object);

/** Every CEL rule of the schema, evaluated where it sits with `self` bound to the value there; the failures' messages. */
async function celFailures(schema: Schema, value: unknown, where = ''): Promise<string[]> {
  const { evaluate } = await import('@marcbachmann/cel-js');
  if (value === undefined) return [];
  const failures: string[] = [];
  for (const rule of schema['x-kubernetes-validations'] ?? []) {
    if (evaluate(rule.rule, { self: value }) !== true) failures.push(`${where || '<root>'}: ${rule.message}`);
  }
  if (schema.properties && value && typeof value === 'object') {
    for (const [key, child] of Object.entries(schema.properties as Record<string, Schema>))
      failures.push(...(await celFailures(child, (value as Schema)[key], `${where}.${key}`)));
  }
  if (schema.items && Array.isArray(value)) {
    for (const [index, item] of value.entries()) failures.push(...(await celFailures(schema.items, item, `${where}[${index}]`)));
  }
  return failures;
}

async function apiServerVerdict(doc: unknown): Promise<string[]> {
  const schemaErrors = validateSchema(doc) ? [] : (validateSchema.errors ?? []).map((error) => `${error.instancePath} ${error.message}`);
  return [...schemaErrors, ...(await celFailures(openApi, doc))];
}

test('the dev overlay example passes the CRD schema, its CEL rules and the controller validation', async (t) => {
  t.deepEqual(await apiServerVerdict(example), []);
  t.deepEqual(validateModelRollout(example), []);
});

test('the CRD declares the status subresource and the printer columns kubectl get shows', (t) => {
  t.deepEqual(version.subresources, { status: {} });
  t.deepEqual(
    version.additionalPrinterColumns.filter((column: Schema) => !column.priority).map((column: Schema) => column.name),
    ['Model', 'Stable', 'Candidate', 'Weight', 'Phase', 'Age'],
  );
  t.deepEqual(openApi.properties.status.properties.phase.enum, ['Progressing', 'Paused', 'Promoted', 'RolledBack', 'Failed']);
});

const variants: Array<{ name: string; change: (doc: Schema) => void; rejectedBy: RegExp }> = [
  { name: 'a weight over 100', change: (doc) => (doc.spec.steps[3] = { setWeight: 101 }), rejectedBy: /setWeight must be <= 100/ },
  { name: 'a negative mirror', change: (doc) => (doc.spec.steps[1] = { mirror: -1 }), rejectedBy: /mirror must be >= 0/ },
  { name: 'candidate equal to stable', change: (doc) => (doc.spec.candidate = doc.spec.stable), rejectedBy: /candidate must differ from stable/ },
  { name: 'a step with two kinds', change: (doc) => (doc.spec.steps[0] = { setWeight: 10, pause: {} }), rejectedBy: /exactly one of setWeight/ },
  { name: 'a step with no kind', change: (doc) => (doc.spec.steps[0] = {}), rejectedBy: /exactly one of setWeight/ },
  { name: 'a bad interval', change: (doc) => (doc.spec.interval = 'soon'), rejectedBy: /interval must match pattern/ },
  { name: 'an unknown failure policy', change: (doc) => (doc.spec.onFailure = 'retry'), rejectedBy: /onFailure must be equal to one of the allowed values/ },
  { name: 'an agreement over 1', change: (doc) => (doc.spec.analysis.minAgreement = 1.5), rejectedBy: /minAgreement is a share from 0 to 1/ },
  { name: 'no steps', change: (doc) => (doc.spec.steps = []), rejectedBy: /steps must NOT have fewer than 1 items/ },
];

for (const variant of variants) {
  test(`the API server's checks and the controller both refuse ${variant.name}`, async (t) => {
    const doc = structuredClone(example);
    variant.change(doc);
    const verdict = await apiServerVerdict(doc);
    t.regex(verdict.join('\n'), variant.rejectedBy);
    t.not(validateModelRollout(doc).length, 0, 'the controller accepts what the API server refuses');
  });
}

test('the manifest checker refuses a controller whose Role lacks the status subresource, or two replicas without leader election', async (t) => {
  const { parseAllDocuments } = await import('yaml');
  const objects = ['model-rollout-crd.yaml', 'rbac.yaml', 'rollout-controller.yaml'].flatMap((file) =>
    parseAllDocuments(fs.readFileSync(path.join(ROOT_DIR, 'k8s/components/rollouts', file), 'utf8')).map((document) => document.toJS() as Schema),
  );
  const checker = (await import(pathToFileURL(path.join(ROOT_DIR, 'k8s', 'check-manifests.mjs')).href)) as {
    checkRendered(objects: unknown[]): { problems: string[] };
  };
  const rolloutProblems = (list: Schema[]) =>
    checker
      .checkRendered([...list, example])
      .problems.filter((problem) => /^(ModelRollout|CustomResourceDefinition|Deployment rollout-controller:)/.test(problem));
  t.deepEqual(rolloutProblems(objects), []);

  const narrowed = structuredClone(objects);
  const role = narrowed.find((object) => object.kind === 'Role')!;
  role.rules = role.rules.filter((rule: Schema) => !rule.resources.includes('modelrollouts/status'));
  t.regex(rolloutProblems(narrowed).join('\n'), /may not update modelrollouts\/status/);

  const unelected = structuredClone(objects);
  const deployment = unelected.find((object) => object.kind === 'Deployment')!;
  deployment.spec.template.spec.containers[0].env = deployment.spec.template.spec.containers[0].env.filter(
    (variable: Schema) => variable.name !== 'LEADER_ELECTION',
  );
  t.regex(rolloutProblems(unelected).join('\n'), /2 replicas without LEADER_ELECTION=true/);

  t.regex(
    rolloutProblems(objects.filter((object) => object.kind !== 'CustomResourceDefinition')).join('\n'),
    /no CustomResourceDefinition for maas.dev\/v1alpha1/,
  );
});
