import { useDevCloudTarget } from '../support/e2e-target.js';
import { describeContainerInstanceFlow } from './containerinstance-flow.js';

describeContainerInstanceFlow('ContainerInstance flow on the dev cloud', () => useDevCloudTarget());
