import test from 'ava';
import { versionFileDigest, VersionFileError } from '../src/version-files.js';

const sha = (digit: string) => digit.repeat(64);
const version = (options: {
  artifacts?: Array<{ path: string; sha256: string; size_bytes: number }>;
  files?: Array<{ path: string; sha256: string; size_bytes: number }>;
}) => ({ artifacts: options.artifacts ?? [], manifest: { files: options.files ?? [] } }) as unknown as Parameters<typeof versionFileDigest>[0];

test('a file listed by the registry and the manifest alike has that digest', (t) => {
  const entry = { path: 'model.onnx', sha256: sha('a'), size_bytes: 10 };
  t.deepEqual(versionFileDigest(version({ artifacts: [entry], files: [entry] }), 'model.onnx'), { sha256: sha('a'), size_bytes: 10 });
});

test('a file listed on one side only has the digest of that side', (t) => {
  t.deepEqual(versionFileDigest(version({ artifacts: [{ path: 'tokenizer.json', sha256: sha('b'), size_bytes: 3 }] }), 'tokenizer.json'), {
    sha256: sha('b'),
    size_bytes: 3,
  });
  t.deepEqual(versionFileDigest(version({ files: [{ path: 'tokenizer.json', sha256: sha('c'), size_bytes: 4 }] }), 'tokenizer.json'), {
    sha256: sha('c'),
    size_bytes: 4,
  });
});

test('a file listed nowhere, or with two different digests, is refused with what is wrong', (t) => {
  t.throws(() => versionFileDigest(version({}), 'model.onnx'), { instanceOf: VersionFileError, message: `file "model.onnx" is not among the version's files` });
  const differing = version({
    artifacts: [{ path: 'model.onnx', sha256: sha('a'), size_bytes: 10 }],
    files: [{ path: 'model.onnx', sha256: sha('a'), size_bytes: 11 }],
  });
  t.throws(() => versionFileDigest(differing, 'model.onnx'), {
    instanceOf: VersionFileError,
    message: /file "model\.onnx": the manifest lists sha256 a+ \(11 bytes\), the registry stores a+ \(10 bytes\)/,
  });
});
