import { createHash } from 'node:crypto';

import { formatIpv4, parseCidr, type DevCloudConfig } from './config.js';
import type {
  ApplicationCredentialRecord,
  FlavorRecord,
  NetworkRecord,
  ProjectRecord,
  SecurityGroupRecord,
  SubnetRecord,
  UserRecord,
} from './model.js';

/** The fixed resources every dev cloud starts with; built from the configuration. */
export interface Fixtures {
  domainId: string;
  domainName: string;
  project: ProjectRecord;
  users: UserRecord[];
  applicationCredential: ApplicationCredentialRecord;
  flavors: FlavorRecord[];
  network: NetworkRecord;
  subnet: SubnetRecord;
  securityGroup: SecurityGroupRecord;
}

/**
 * Flavors as DevStack defines them (ID, name, RAM in MiB, vCPUs, disk in GiB),
 * so flavor names from DevStack-based samples work unchanged.
 */
export const defaultFlavors: ReadonlyArray<
  Omit<FlavorRecord, 'ephemeral' | 'swap' | 'description'>
> = [
  { id: '1', name: 'm1.tiny', ram: 512, vcpus: 1, disk: 1 },
  { id: '2', name: 'm1.small', ram: 2048, vcpus: 1, disk: 20 },
  { id: '3', name: 'm1.medium', ram: 4096, vcpus: 2, disk: 40 },
  { id: '4', name: 'm1.large', ram: 8192, vcpus: 4, disk: 80 },
  { id: '42', name: 'm1.nano', ram: 128, vcpus: 1, disk: 1 },
  { id: '84', name: 'm1.micro', ram: 192, vcpus: 1, disk: 1 },
  { id: 'c1', name: 'cirros256', ram: 256, vcpus: 1, disk: 1 },
  { id: 'd1', name: 'ds512M', ram: 512, vcpus: 1, disk: 5 },
  { id: 'd2', name: 'ds1G', ram: 1024, vcpus: 1, disk: 10 },
  { id: 'd3', name: 'ds2G', ram: 2048, vcpus: 2, disk: 10 },
  { id: 'd4', name: 'ds4G', ram: 4096, vcpus: 4, disk: 20 },
];

/** Returns a UUID derived from a kind and a name, so fixture IDs stay the same across restarts. */
export function stableId(kind: string, name: string): string {
  const hex = createHash('sha1').update(`devcloud:${kind}:${name}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** Builds the fixtures for a configuration. */
export function buildFixtures(config: DevCloudConfig): Fixtures {
  const domainId =
    config.domainName === 'Default' ? 'default' : stableId('domain', config.domainName);
  const project: ProjectRecord = {
    id: stableId('project', config.projectName).replace(/-/g, ''),
    name: config.projectName,
    domainId,
  };
  const user = (name: string, password: string, roles: string[]): UserRecord => ({
    id: stableId('user', name).replace(/-/g, ''),
    name,
    domainId,
    password,
    defaultProjectId: project.id,
    roles,
  });
  const operator = user(config.username, config.password, ['member', 'reader']);
  const admin = user(config.adminUsername, config.adminPassword, ['admin', 'member', 'reader']);

  const { base, prefix } = parseCidr(config.networkCidr);
  const size = 2 ** (32 - prefix);
  const network: NetworkRecord = {
    id: stableId('network', config.networkName),
    name: config.networkName,
    projectId: project.id,
    subnetId: stableId('subnet', `${config.networkName}-subnet`),
    shared: false,
    mtu: 1500,
    createdAt: '2024-01-01T00:00:00Z',
  };
  const subnet: SubnetRecord = {
    id: network.subnetId,
    name: `${config.networkName}-subnet`,
    networkId: network.id,
    projectId: project.id,
    cidr: `${formatIpv4(base)}/${prefix}`,
    gatewayIp: formatIpv4(base + 1),
    allocationStart: formatIpv4(base + 2),
    allocationEnd: formatIpv4(base + size - 2),
  };

  return {
    domainId,
    domainName: config.domainName,
    project,
    users: [operator, admin],
    applicationCredential: {
      id: stableId('application-credential', 'operator').replace(/-/g, ''),
      name: 'operator',
      userId: operator.id,
      projectId: project.id,
      secret: config.applicationCredentialSecret,
    },
    flavors: defaultFlavors.map((flavor) => ({
      ...flavor,
      ephemeral: 0,
      swap: 0,
      description: null,
    })),
    network,
    subnet,
    securityGroup: {
      id: stableId('security-group', `${config.projectName}-default`),
      name: 'default',
      description: 'Default security group',
      projectId: project.id,
    },
  };
}
