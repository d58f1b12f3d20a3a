// The catalog of admin roles a partner may ask for, drawn from the tasks
// customers delegate to service providers. Ids are stable API values.
export const roleCatalog = [
  {
    id: 'user-administrator',
    name: 'User administrator',
    description: 'Create and edit users and groups, and reset their passwords.',
  },
  {
    id: 'password-administrator',
    name: 'Password administrator',
    description: 'Reset passwords for users who are not administrators.',
  },
  {
    id: 'license-administrator',
    name: 'License administrator',
    description: 'Assign and remove licenses, and manage subscriptions.',
  },
  {
    id: 'domain-administrator',
    name: 'Domain name administrator',
    description: 'Add, verify and remove the organisation’s domain names.',
  },
  {
    id: 'privileged-role-administrator',
    name: 'Privileged role administrator',
    description: 'Assign and remove admin roles for other users.',
  },
  {
    id: 'helpdesk-administrator',
    name: 'Helpdesk administrator',
    description: 'Reset passwords, open service requests and monitor service health.',
  },
  {
    id: 'security-reader',
    name: 'Security reader',
    description: 'Read security reports and settings, without changing them.',
  },
  {
    id: 'reports-reader',
    name: 'Reports reader',
    description: 'Read usage and activity reports (read only).',
  },
] as const;

export type RoleId = (typeof roleCatalog)[number]['id'];

export const roleIds = roleCatalog.map((role) => role.id) as [RoleId, ...RoleId[]];

export function roleName(id: string): string {
  return roleCatalog.find((role) => role.id === id)?.name ?? id;
}
