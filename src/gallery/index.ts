export { openGallery, openStore, defaultGalleryFile, DEFAULT_GALLERY } from './gallery.js';
export { SqliteStore } from './sqlite.js';
export { ANN_DEFAULTS, type AnnOptions } from './memory.js';
export type * from './types.js';
export { PostgresStore, type PostgresOptions } from './postgres.js';
