/** Development entry: `node --import tsx src/cli/run.ts <command> …` (the launcher is bin/visage.js). */
import { main } from './main.js';

process.exitCode = await main(process.argv.slice(2));
