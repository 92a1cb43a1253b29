#!/usr/bin/env node
import('../dist/main.js').then((sidecar) => sidecar.main(process.argv.slice(2)));
