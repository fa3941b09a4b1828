/**
 * Every failure visage reports is a VisageError with a stable `code`.
 * The HTTP layer maps codes to statuses from this one table.
 */
export const ERROR_CODES = {
  INVALID_IMAGE: { status: 400, description: 'Not an image, truncated, or an unsupported format' },
  IMAGE_TOO_LARGE: { status: 413, description: 'The image exceeds the pixel limit' },
  DOWNLOAD_FAILED: { status: 400, description: 'Bad status, timeout, body too large, or too many redirects' },
  BLOCKED_ADDRESS: { status: 400, description: 'The URL resolves to a loopback, private, link-local or multicast address' },
  FILE_NOT_FOUND: { status: 404, description: 'No file at the given path' },
  INVALID_ARGUMENT: { status: 400, description: 'An option or argument has the wrong type or value' },
  NO_FACE: { status: 422, description: 'No face was found where one is needed' },
  INVALID_MODEL: { status: 500, description: 'A model file is unreadable, truncated, of the wrong format or shape, or uses an operator visage cannot convert' },
  MODEL_MISMATCH: { status: 400, description: 'Embeddings (or a gallery) of one recogniser used with another' },
  MODEL_ERROR: { status: 500, description: 'A network failed to load or run' },
  GALLERY_NOT_FOUND: { status: 404, description: 'No gallery of that name (or it was deleted)' },
  GALLERY_MODEL_MISMATCH: { status: 409, description: "The embedding comes from another recogniser (or dimension) than the gallery's" },
  INVALID_VIDEO: { status: 400, description: 'Not a video, empty, corrupt, or without a video stream' },
  FFMPEG_NOT_FOUND: { status: 500, description: 'ffmpeg (needed for video files) is not installed or not where it was said to be' },
  FFMPEG_FAILED: { status: 500, description: 'ffmpeg failed while writing a video' },
  SPOOF_DETECTED: { status: 400, description: 'Anti-spoofing judged a face not real (a print or a screen); DeepFace answers 400 too' },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class VisageError extends Error {
  readonly code: ErrorCode;
  /** Machine-readable facts about the failure, where a code has them (SPOOF_DETECTED: image, face, real). */
  readonly details: Readonly<Record<string, unknown>> | undefined;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'VisageError';
    this.code = code;
    this.details = options?.details;
  }
  get status(): number {
    return ERROR_CODES[this.code].status;
  }
}

export function isVisageError(err: unknown, code?: ErrorCode): err is VisageError {
  return err instanceof VisageError && (code === undefined || err.code === code);
}
