import test from 'ava';
import { redactUrlCredentials } from '../src/redact.js';

test('credentials in URLs are redacted, the rest of the text kept', (t) => {
  t.is(redactUrlCredentials('nats://user:s3cret@nats:4222'), 'nats://***@nats:4222');
  t.is(redactUrlCredentials('nats://token@10.0.0.1:4222,nats://a:b@other:4222'), 'nats://***@10.0.0.1:4222,nats://***@other:4222');
  t.is(redactUrlCredentials('connect ECONNREFUSED to nats://u:p@h:1 failed'), 'connect ECONNREFUSED to nats://***@h:1 failed');
  t.is(redactUrlCredentials('nats://127.0.0.1:4222'), 'nats://127.0.0.1:4222');
});
