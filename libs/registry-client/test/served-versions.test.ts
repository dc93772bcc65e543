import test from 'ava';
import { servedVersions, servedVersionsOf } from '../src/served-versions.js';

const model = (name: string, versions: string[], rollout: [string, string] | null, aliases: Record<string, string> = {}) => ({
  name,
  versions: versions.map((version) => ({ model: name, version, manifest: null, artifacts: [], created_at: '', revision: 1 })),
  rollout: rollout && { model: name, stable_version: rollout[0], canary_version: rollout[1], canary_weight: 0, mirror_percent: 0, revision: 1, updated_at: '' },
  aliases: Object.entries(aliases).map(([aliasName, version]) => ({ name: aliasName, version, revision: 1, updated_at: '' })),
});

test('the mesh serves a rollout’s stable and canary and every aliased version, each once', (t) => {
  t.deepEqual(servedVersionsOf(model('a', ['1', '2', '3', '4'], ['1', '2'], { production: '1', champion: '3' })), ['1', '2', '3']);
  // An alias alone makes a version served; a model with neither serves nothing.
  t.deepEqual(servedVersionsOf(model('b', ['1', '2'], null, { champion: '2' })), ['2']);
  t.deepEqual(servedVersionsOf(model('c', ['1'], ['', ''])), []);
  // Only versions the model lists (a snapshot is consistent, but a consumer never loads what is not there).
  t.deepEqual(servedVersionsOf(model('d', ['1'], ['1', '9'])), ['1']);
  t.deepEqual(servedVersions({ models: [model('a', ['1', '2'], ['1', ''], { next: '2' }), model('b', ['7'], ['7', ''])] }), [
    { model: 'a', version: '1' },
    { model: 'a', version: '2' },
    { model: 'b', version: '7' },
  ]);
});
