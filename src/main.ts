#!/usr/bin/env node
import { Command } from 'commander';

import { registerRunCommand } from './cmd/run.js';
import { registerDevcloudCommand } from './devcloud/command.js';

/**
 * The nova-docker-operator command line. Each subcommand lives in its own module
 * and registers itself here.
 */
export function buildProgram(): Command {
  const program = new Command();
  program
    .name('nova-docker-operator')
    .description('Runs ContainerInstance resources as Nova-Docker servers on OpenStack')
    .showHelpAfterError();
  // NOTE: the ContainerInstance reconciler plugs in here as the run command's
  // wiring (resource type, watchSecrets, setup). Until it exists, `run`
  // validates its flags and then exits 1 saying no reconciler is registered.
  registerRunCommand(program, undefined);
  registerDevcloudCommand(program);
  return program;
}

await buildProgram().parseAsync(process.argv);
