// The fixed vocabulary of the audit trail (contract §7).
export const auditActions = [
  'auth.refused',
  'session.create',
  'session.delete',
  'user.create',
  'account.create',
  'account.delete',
  'member.add',
  'member.role_change',
  'member.remove',
  'project.create',
  'project.delete',
  'api_key.create',
  'api_key.delete',
  'service_key.create',
  'service_key.delete',
  'ssh_key.create',
  'ssh_key.delete',
  'deploy_key.create',
  'deploy_key.delete',
] as const;
export type AuditAction = (typeof auditActions)[number];
