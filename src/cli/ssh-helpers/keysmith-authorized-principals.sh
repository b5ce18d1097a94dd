#!/bin/sh
# keysmith-authorized-principals: sshd's AuthorizedPrincipalsCommand, written by
# `keysmith ssh-setup --certificates`. sshd calls it as `keysmith-authorized-principals %u %s %F` (the
# user logging in, the certificate's serial, the SHA256 fingerprint of the CA key that signed it) once
# the certificate has passed TrustedUserCAKeys, and lets the login in only when a line it prints names
# one of the certificate's principals. It asks Keysmith whether the certificate is still good (known,
# unexpired, unrevoked, its user still a member), with the ssh_server key in the token file (read at
# each call), and fails closed: when Keysmith cannot be reached, takes more than 5 seconds, answers an
# error or an answer of the wrong shape, it prints nothing, writes one line to stderr (sshd's log) and
# exits non-zero. POSIX sh and curl only: no other process per login.
KEYSMITH_URL='@KEYSMITH_URL@'
TOKEN_FILE='@TOKEN_FILE@'
MODE='@MODE@'
FORCED_COMMAND='@FORCED_COMMAND@'

# sshd runs this with an almost empty environment; nothing from the client reaches it but %u and the
# certificate's own fields, which are checked below.
PATH=/usr/local/bin:/usr/bin:/bin
LC_ALL=C
export PATH LC_ALL
unset CURL_HOME SSL_CERT_FILE SSL_CERT_DIR 2>/dev/null

fail() {
  printf 'keysmith-authorized-principals: %s\n' "$1" >&2
  exit 1
}

[ "$#" -eq 3 ] || fail "expected three arguments (sshd's %u %s %F), got $#; set: AuthorizedPrincipalsCommand $0 %u %s %F"
user=$1
serial=$2
ca=$3
case $user in
  '' | *[!A-Za-z0-9._-]*) fail "the user name is empty or holds a character other than letters, digits, '.', '_' and '-'; no principal offered" ;;
esac
# Keysmith's serials are 1 to 15 digits without a leading zero; anything else was not signed by it.
case $serial in
  '' | 0* | *[!0-9]* | ????????????????*) fail "the certificate serial is not one Keysmith issues (1 to 15 digits); no principal offered" ;;
esac
case $ca in
  SHA256:*) ;;
  *) fail "the CA fingerprint is not a SHA256 one; remove FingerprintHash from sshd_config (sha256 is the default) and pass %F; no principal offered" ;;
esac
case ${ca#SHA256:} in
  *[!A-Za-z0-9+/]*) fail "the CA fingerprint holds a character other than base64; no principal offered" ;;
  ???????????????????????????????????????????) ;;
  *) fail "the CA fingerprint is not 43 base64 characters after SHA256:; no principal offered" ;;
esac

nl='
'

token=
{ IFS= read -r token || [ -n "$token" ]; } 2>/dev/null <"$TOKEN_FILE" || fail "cannot read the ssh_server key in $TOKEN_FILE as $(id -un 2>/dev/null); it must be readable by AuthorizedPrincipalsCommandUser"
case $token in
  kss_*) ;;
  *) fail "$TOKEN_FILE does not hold a Keysmith service key (kss_...); create an ssh_server service key and put it there" ;;
esac
case $token in
  *[!A-Za-z0-9_]*) fail "$TOKEN_FILE holds more than one service key (kss_...) on its first line" ;;
esac

# The key goes to curl on standard input (its --config), never in argv, where ps would show it;
# --disable (first) keeps a ~/.curlrc from changing the request.
response=$(
  curl --disable --config - --silent --max-time 5 --proto =http,https --get \
    --data-urlencode "user=$user" --data-urlencode "serial=$serial" --data-urlencode "ca=$ca" \
    --data-urlencode "mode=$MODE" ${FORCED_COMMAND:+--data-urlencode "command=$FORCED_COMMAND"} \
    --write-out '%{http_code}' "$KEYSMITH_URL/v1/ssh/authorized-principals" 2>/dev/null <<CONFIG
header = "Authorization: Bearer $token"
CONFIG
)
status=$?
case $status in
  0) ;;
  6) fail "cannot resolve the host of $KEYSMITH_URL (curl exit 6); no principal offered" ;;
  7) fail "cannot connect to Keysmith at $KEYSMITH_URL (curl exit 7); no principal offered" ;;
  28) fail "Keysmith at $KEYSMITH_URL did not answer within 5 seconds; no principal offered" ;;
  35 | 51 | 58 | 60) fail "TLS with $KEYSMITH_URL failed (curl exit $status); no principal offered" ;;
  *) fail "the request to Keysmith at $KEYSMITH_URL failed (curl exit $status); no principal offered" ;;
esac

body=${response%???}
code=${response#"$body"}
if [ "$code" != 200 ]; then
  reason=$(printf '%s' "$body" | sed -n 's/.*"code" *: *"\([a-z_]*\)".*/\1/p')
  fail "Keysmith answered HTTP $code${reason:+ ($reason)} to the certificate check; no principal offered"
fi
case $body in
  '') exit 0 ;;
  *"$nl"?*) fail "Keysmith answered more than one line to the certificate check; no principal offered" ;;
  *"$nl") ;;
  *) fail "Keysmith's answer to the certificate check did not end in a newline; no principal offered" ;;
esac
line=${body%"$nl"}

# Only the two shapes Keysmith sends are passed on: a bare principal in login mode, and in git mode the
# forced command of this very certificate before one. Anything else (options, a second principal, another
# command or serial) is refused rather than handed to sshd.
if [ "$MODE" = git ]; then
  prefix="restrict,command=\"$FORCED_COMMAND cert-$serial\" "
  case $line in
    "$prefix"*) principal=${line#"$prefix"} ;;
    *) fail "Keysmith's answer to the certificate check is not restrict,command=\"$FORCED_COMMAND cert-$serial\" <principal>; no principal offered" ;;
  esac
  charset='letters, digits and ._:/-'
  case $principal in
    '' | *[!A-Za-z0-9._:/-]*) fail "the principal in Keysmith's answer is empty or holds a character other than $charset; no principal offered" ;;
  esac
else
  case $line in
    '' | *[!A-Za-z0-9._-]*) fail "Keysmith's answer to the certificate check is not one principal (letters, digits and ._-, no spaces or options); no principal offered" ;;
  esac
fi
printf '%s\n' "$line"
