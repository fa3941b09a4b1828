/** JSON-schema pieces shared by the routes (validation, serialisation and the OpenAPI document). */
import { EMOTIONS } from '../types.js';

export const errorSchema = {
  type: 'object',
  properties: {
    error: { type: 'string' },
    details: { type: 'object', additionalProperties: true, description: 'SPOOF_DETECTED: image, face, box, real, threshold, model' },
  },
  required: ['error'],
} as const;

/** The error responses every analysing route can give. */
export const errorResponses = {
  400: { description: 'Invalid input, or (anti_spoofing) a face judged not real', ...errorSchema },
  401: { description: 'Missing or wrong bearer token', ...errorSchema },
  413: { description: 'Body or image too large', ...errorSchema },
  422: { description: 'No face found where one is needed', ...errorSchema },
  500: { description: 'Unexpected failure (details in the server log)', ...errorSchema },
  503: { description: 'Busy or timed out; see Retry-After', ...errorSchema },
} as const;

export const boxSchema = {
  type: 'object',
  properties: { x: { type: 'number' }, y: { type: 'number' }, width: { type: 'number' }, height: { type: 'number' } },
} as const;

/** Probabilities keyed by emotion label. */
export const emotionsSchema = {
  type: 'object',
  properties: Object.fromEntries(EMOTIONS.map((label) => [label, { type: 'number' }])),
} as const;

/** `?format=png` (or `Accept: image/png`) asks for the picture instead of JSON. */
export const formatQuerySchema = {
  type: 'object',
  properties: { format: { type: 'string', enum: ['json', 'png'], description: 'png: the result as a picture (default json, or as Accept asks)' } },
} as const;

/** A 200 that is JSON by default and a PNG on request. */
export function jsonOrPng(schema: object, description: string): object {
  return {
    description,
    content: {
      'application/json': { schema },
      'image/png': { schema: { type: 'string', format: 'binary' } },
    },
  };
}
