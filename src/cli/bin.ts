#!/usr/bin/env node
/** The `connectome-storage` executable (the package's `bin`). */
import { runMain } from './main.js';

runMain(process.argv.slice(2));
