import * as fs from 'node:fs';
import * as path from 'node:path';
import { ERROR_CODES } from '../../src/contract';

test('every error code is listed in docs/errors.md with its HTTP status', () => {
  const doc = fs.readFileSync(path.join(__dirname, '..', '..', 'docs', 'errors.md'), 'utf8');
  for (const [code, status] of Object.entries(ERROR_CODES)) {
    expect(doc).toMatch(new RegExp(`^\\| ${code} \\| ${status} \\|`, 'm'));
  }
});
