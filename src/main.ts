#!/usr/bin/env node
import { Command } from 'commander';

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
  return program;
}

await buildProgram().parseAsync(process.argv);
