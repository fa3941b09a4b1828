/** The `model_name` request parameter (DeepFace's name for it) → one of visage's built-in recognisers. */
import { VisageError } from '../errors.js';
import type { RecognizerName } from '../types.js';

const RECOGNIZERS: readonly RecognizerName[] = ['dlib', 'mobilefacenet', 'fusion'];

/**
 * The recogniser a request names (case-insensitively, so DeepFace's "Dlib" is dlib), or undefined
 * for the service's own. A model visage does not have (DeepFace's "VGG-Face", "ArcFace", …) is
 * refused: answering with another model's embeddings or thresholds would mislead the client.
 */
export function recognizerParam(name: string | undefined): RecognizerName | undefined {
  if (name === undefined || name === '') return undefined;
  const found = RECOGNIZERS.find((r) => r === name.toLowerCase());
  if (!found) throw new VisageError('INVALID_ARGUMENT', `Unknown model_name ${JSON.stringify(name)}: expected one of ${RECOGNIZERS.join(', ')}`);
  return found;
}

/** The schema of the parameter, for the OpenAPI document. */
export const modelNameSchema = {
  type: 'string',
  description: `Recogniser: ${RECOGNIZERS.join(', ')} (case-insensitive; default: the service's, fusion unless \`visage serve --recognizer\` says otherwise)`,
} as const;
