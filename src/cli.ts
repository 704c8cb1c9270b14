import { Command } from 'commander';

import { registerRunCommand } from './cmd/run.js';
import { containerInstanceWiring } from './containerinstance/index.js';
import { registerDevcloudCommand } from './devcloud/command.js';

/**
 * Builds the nova-docker-operator command line. Each subcommand lives in its
 * own module and registers itself here.
 */
export function buildProgram(): Command {
  const program = new Command();
  program
    .name('nova-docker-operator')
    .description('Runs ContainerInstance resources as Nova-Docker servers on OpenStack')
    .showHelpAfterError();
  registerRunCommand(program, containerInstanceWiring());
  registerDevcloudCommand(program);
  return program;
}
