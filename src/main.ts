#!/usr/bin/env node
/**
 * Entry point. It checks the Node.js version before loading anything else,
 * because on an older Node.js the dependencies fail at import time with
 * errors that do not name the cause.
 */
const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
const tooOld = major < 22 || (major === 22 && minor < 19);
if (tooOld) {
  console.error(
    `nova-docker-operator needs Node.js 22.19.0 or newer, but this is ${process.versions.node}. ` +
      'Run it through make, or put the Node.js that hack/ensure-node.sh installs first on PATH: ' +
      'export PATH=$(hack/ensure-node.sh):$PATH',
  );
  process.exit(1);
}

const { buildProgram } = await import('./cli.js');
await buildProgram().parseAsync(process.argv);
