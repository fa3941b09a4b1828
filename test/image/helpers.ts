/** What the image-input tests share: a shipped photo and the check that an error is a given VisageError. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { isVisageError, type ErrorCode } from '../../src/errors.js';

export const SAMPLE_PATH = 'node_modules/@vladmandic/face-api/demo/sample1.jpg';
/** A 1920x1280 JPEG photo. */
export const SAMPLE = readFileSync(SAMPLE_PATH);
/** Download options that let the tests reach their server on 127.0.0.1. */
export const LOCAL = { allowPrivateAddresses: true } as const;

/** An `assert.rejects`/`assert.throws` validator: a VisageError with `code`, its message matching `pattern` if given. */
export function rejectsWith(code: ErrorCode, pattern?: RegExp) {
  return (err: unknown) => {
    assert.ok(isVisageError(err, code), `expected VisageError ${code}, got ${String(err)}`);
    if (pattern) assert.match(err.message, pattern);
    return true;
  };
}
