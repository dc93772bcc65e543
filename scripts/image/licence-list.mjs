// The licence list of an image's npm packages, from its CycloneDX SBOM (JSON): one line per package and
// version, `name<TAB>version<TAB>licence`, sorted; fails when the SBOM lists no package, and names on
// stderr every package that declares no licence. The project's own workspaces (private, no licence field
// of their own) carry the root package.json's licence.
//   node scripts/image/licence-list.mjs <sbom.cdx.json> > licences.tsv   (run from the repository root)
import { readFileSync } from 'node:fs';

const [file] = process.argv.slice(2);
if (!file) {
  console.error('usage: node scripts/image/licence-list.mjs <sbom.cdx.json>');
  process.exit(2);
}
const sbom = JSON.parse(readFileSync(file, 'utf8'));
const components = (sbom.components ?? []).filter((component) => component.type === 'library');
if (components.length === 0) {
  console.error(`licence-list: ${file} lists no packages`);
  process.exit(1);
}

const root = JSON.parse(readFileSync('package.json', 'utf8'));
const ownPackages = new Set(root.workspaces.map((workspace) => JSON.parse(readFileSync(`${workspace}/package.json`, 'utf8')).name));

/** SPDX id, SPDX expression or free-text name: whatever the package declared. */
const licenceOf = (name, component) =>
  ownPackages.has(name)
    ? root.license
    : [...new Set((component.licenses ?? []).map((entry) => entry.expression ?? entry.license?.id ?? entry.license?.name).filter(Boolean))].join(' AND ');

// A package installed at several places in node_modules is one component per place: listed once.
const unique = new Map();
for (const component of components) {
  const name = component.group ? `${component.group}/${component.name}` : component.name;
  unique.set(`${name}@${component.version}`, [name, component.version, licenceOf(name, component)]);
}
const rows = [...unique.values()].sort((a, b) => a[0].localeCompare(b[0]) || a[1].localeCompare(b[1]));
const undeclared = rows.filter(([, , licence]) => !licence);
if (undeclared.length > 0) console.error(`licence-list: no licence declared by ${undeclared.map(([name, version]) => `${name}@${version}`).join(', ')}`);
console.log(['package', 'version', 'licence'].join('\t'));
for (const row of rows) console.log(row.map((value) => value || 'UNDECLARED').join('\t'));
