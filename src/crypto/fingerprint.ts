// A key fingerprint as clients send it: `SHA256:…` (OpenSSH, GitHub) or MD5 colon hex (CircleCI).
export type FingerprintColumn = 'fingerprint_sha256' | 'fingerprint_md5';

/** Which of a key table's two fingerprint columns holds a fingerprint of this form. */
export const fingerprintColumn = (fingerprint: string): FingerprintColumn => (fingerprint.startsWith('SHA256:') ? 'fingerprint_sha256' : 'fingerprint_md5');

/** MD5 fingerprints are stored in lower case and accepted in either; SHA256 base64 is case-sensitive. */
export const fingerprintValue = (fingerprint: string): string => (fingerprintColumn(fingerprint) === 'fingerprint_md5' ? fingerprint.toLowerCase() : fingerprint);
