import { VisageError } from '../errors.js';
import type { GalleryStore } from './types.js';

export const PostgresStore = {
  async connect(_url: string): Promise<GalleryStore> {
    throw new VisageError('INVALID_ARGUMENT', 'The PostgreSQL store is not built yet');
  },
};
