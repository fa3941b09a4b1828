/** The package as a user sees it: the import name resolves to the built library, codes are documented. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { ERROR_CODES } from '../src/errors.js';

test("import { createVisage } from 'visage' resolves through package.json exports to dist/", async () => {
  // Self-reference by package name: the same resolution a dependent project gets.
  const visage = (await import('visage')) as Record<string, unknown>;
  assert.equal(typeof visage.createVisage, 'function');
  assert.equal(typeof visage.VisageError, 'function');
});

test('every error code is documented in the README and has an HTTP status', async () => {
  const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
  for (const [code, { status, description }] of Object.entries(ERROR_CODES)) {
    assert.match(readme, new RegExp(`\\b${code}\\b`), `${code} missing from README`);
    assert.ok(status >= 400 && status < 600, code);
    assert.ok(description.length > 0, code);
  }
});
