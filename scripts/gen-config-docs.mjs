#!/usr/bin/env node
// Generates the README's configuration tables from the config readers themselves: each variable's name,
// default and `doc` string as the services read them (describeConfig in services/shared), so the documentation
// has one source. Needs the build (it reads the compiled config modules). The tables sit between
// `<!-- config:NAME:start -->` and `<!-- config:NAME:end -->` markers; `--check` fails when the README differs
// from what would be generated (drift), `npm test` runs it after the build.
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const README = path.join(root, 'README.md');

const shared = require(path.join(root, 'services/shared/dist/index.js'));
const { registryConsumerConfig } = require(path.join(root, 'libs/registry-client/dist/index.js'));
const { describeConfig, configReader, serverConfig, SERVICE_PORTS } = shared;

/** Each service's config module (its loadConfig), by the service name the ports use. */
const SERVICE_CONFIG_MODULES = {
  gateway: 'services/gateway/dist/config.js',
  tokenizer: 'services/tokenizer/dist/config.js',
  inference: 'services/inference/dist/config.js',
  'model-registry': 'services/model-registry/dist/config.js',
  'rollout-controller': 'services/rollout-controller/dist/config.js',
};

const escapeCell = (text) => text.replaceAll('|', '\\|');

/** `value` as a table cell: numbers and keywords plain, anything else as code. */
function defaultCell(value) {
  if (value === undefined) return '(required)';
  if (/^-?[0-9]+(\.[0-9]+)?( \/ -?[0-9]+(\.[0-9]+)?)*$/.test(value) || value === 'true' || value === 'false') return value;
  if (value.startsWith('(') || value.startsWith('=')) return escapeCell(value);
  return `\`${escapeCell(value)}\``;
}

function table(variables) {
  const rows = variables.map(
    (variable) => `| \`${variable.name}\` | ${defaultCell(variable.default)} | ${escapeCell(variable.constraint ?? '')} | ${escapeCell(variable.doc)} |`,
  );
  return ['| variable | default | allowed | meaning |', '|---|---|---|---|', ...rows].join('\n');
}

/** The server settings of all four services in one table: a default that differs per service names each service's. */
function serverTable() {
  const services = Object.keys(SERVICE_CONFIG_MODULES);
  const perService = services.map((service) => describeConfig(() => serverConfig(configReader({}), SERVICE_PORTS[service])));
  const merged = perService[0].map((variable, index) => {
    const defaults = perService.map((variables) => variables[index].default);
    if (new Set(defaults).size === 1) return variable;
    return { ...variable, default: `(${services.map((service, at) => `${service} ${defaults[at]}`).join(', ')})` };
  });
  return table(merged);
}

function generatedTables() {
  const server = new Set(describeConfig(() => serverConfig(configReader({}), SERVICE_PORTS.gateway)).map((variable) => variable.name));
  const consumerVariables = describeConfig(() => registryConsumerConfig(configReader({})));
  const consumer = new Set(consumerVariables.map((variable) => variable.name));
  const tables = { server: serverTable(), 'registry-consumer': table(consumerVariables) };
  for (const [service, modulePath] of Object.entries(SERVICE_CONFIG_MODULES)) {
    const { loadConfig } = require(path.join(root, modulePath));
    const own = describeConfig(() => loadConfig({})).filter((variable) => !server.has(variable.name) && !consumer.has(variable.name));
    tables[service] = table(own);
  }
  return tables;
}

function render(readme, tables) {
  let text = readme;
  for (const [name, body] of Object.entries(tables)) {
    const pattern = new RegExp(`(<!-- config:${name}:start -->\\n)[\\s\\S]*?(<!-- config:${name}:end -->)`);
    if (!pattern.test(text)) throw new Error(`README.md has no <!-- config:${name}:start/end --> markers`);
    text = text.replace(pattern, (_match, start, end) => `${start}${body}\n${end}`);
  }
  return text;
}

const current = readFileSync(README, 'utf8');
const wanted = render(current, generatedTables());
if (process.argv.includes('--check')) {
  if (wanted !== current) {
    console.error('gen-config-docs: README.md configuration tables differ from the config readers; run `npm run gen:config-docs`');
    process.exit(1);
  }
  console.log('gen-config-docs: README configuration tables match the config readers');
} else {
  writeFileSync(README, wanted);
  console.log('gen-config-docs: README configuration tables written');
}
