import { useOpenStackTarget } from '../support/e2e-target.js';
import { describeContainerInstanceFlow } from './containerinstance-flow.js';

// Tagged for --grep: these run only where the real OpenStack test cloud can start.
describeContainerInstanceFlow('ContainerInstance flow on OpenStack @openstack', (context) =>
  useOpenStackTarget(context),
);
