import { isSecretName, redactHeaderLine, redactTask, redactText, redactUrl, REDACTED } from '../../src/contract';

describe('what may be shown of a task', () => {
  test.each(['Authorization', 'X-Api-Token', 'Ocp-Apim-Subscription-Key', 'x-api-key', 'Cookie', 'X-Session-Id', 'X-Signature', 'password', 'X-Credential', 'Proxy-Authorization'])(
    'the header %s is a secret',
    (name) => {
      expect(isSecretName(name)).toBe(true);
      expect(redactHeaderLine(`${name}: abc`)).toBe(`${name}:${REDACTED}`);
    },
  );

  test.each(['Content-Type', 'Accept', 'X-Request-Id', 'User-Agent'])('the header %s is shown', (name) => {
    expect(redactHeaderLine(`${name}:text/plain`)).toBe(`${name}:text/plain`);
  });

  test.each([
    ['http://h:1/p?token=abc&x=1', 'http://h:1/p?token=******&x=1'],
    ['http://h/p?x=1&api_key=abc', 'http://h/p?x=1&api_key=******'],
    ['http://h/p?Signature=a%2Fb&Expires=1', 'http://h/p?Signature=******&Expires=1'],
    ['http://user:pass@h/p', 'http://******@h/p'],
    ['http://user:p@ss@h/p?q=a@b', 'http://******@h/p?q=a@b'],
    ['s3://AKIA:secret@bucket/key.bin', 's3://******@bucket/key.bin'],
    ['oss://bucket/a.bin,http://u:p@h/b.bin', 'oss://bucket/a.bin,http://******@h/b.bin'],
    ['http://h/p?x=1', 'http://h/p?x=1'],
  ])('%s is shown as %s', (url, shown) => {
    expect(redactUrl(url)).toBe(shown);
  });

  test('a URL inside a message keeps the message around it', () => {
    expect(redactText('data source http://u:SECRET@h:1/d.txt?token=SECRET: HTTP 404')).toBe('data source http://******@h:1/d.txt?token=******: HTTP 404');
    expect(redactText('fetch http://h/p?token=SECRET. Retrying')).toBe('fetch http://h/p?token=******. Retrying');
    expect(redactText('sent Authorization: Bearer SECRET to h')).toBe('sent Authorization: ****** to h');
    expect(redactText('{"requestToken":"SECRET","x":1}')).toBe('{"requestToken":"******","x":1}');
    expect(redactText('scan: TP99 212 ms > maxRT 200 ms, holding 1450 QPS')).toBe('scan: TP99 212 ms > maxRT 200 ms, holding 1450 QPS');
  });

  test('redaction stays linear on long adversarial text', () => {
    const started = Date.now();
    for (const text of ['a.'.repeat(40_000), '?a'.repeat(40_000), `${' a'.repeat(40_000)}`, 'x://'.repeat(20_000)]) redactText(text);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  test('redactTask masks the token, secret headers, URL secrets and cuts long content, leaving the input untouched', () => {
    const spec = {
      service: { serviceName: 'demo', url: 'http://h/p?token=S1', requestToken: 'S2' },
      http: { headers: ['X-Api-Token:S3', 'Accept:*/*'] },
      data: { path: 'http://u:S4@h/d.txt' },
    };
    const shown = redactTask(spec);
    expect(shown).toEqual({
      service: { serviceName: 'demo', url: 'http://h/p?token=******', requestToken: REDACTED },
      http: { headers: ['X-Api-Token:******', 'Accept:*/*'] },
      data: { path: 'http://******@h/d.txt' },
    });
    expect(spec.service.requestToken).toBe('S2');
  });
});
