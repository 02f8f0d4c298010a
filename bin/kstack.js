#!/usr/bin/env node
// The `kstack` command: runs the CLI from the compiled build, or from the
// TypeScript sources when the build is missing or older (bin/entry.js).
import { importEntry } from './entry.js';

const { main } = await importEntry('cli/main');
process.exitCode = await main(process.argv.slice(2));
