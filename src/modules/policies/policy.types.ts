// The shapes of a policy and of a violation, with no imports, so the console shares them with the server.
/** An instance's or an account's policy: null is no limit. */
export interface Policy {
  api_key_max_lifetime_days: number | null;
  ssh_key_max_lifetime_days: number | null;
  ssh_key_types: string[] | null;
  rsa_min_bits: number | null;
  certificate_max_ttl_seconds: number | null;
  disable_unused_after_days: number | null;
  require_verified_ssh_keys: boolean | null;
}

export interface PolicyViolation {
  kind: 'ssh_key' | 'deploy_key' | 'host_key' | 'user_api_key' | 'service_api_key';
  id: number;
  name: string;
  /** The SHA256 fingerprint of an SSH key, the start of an API key. */
  fingerprint: string;
  rule: string;
  limit: string | number | boolean;
}
