export { buildServer, SERVER_DEFAULTS, type ServerOptions } from './app.js';
