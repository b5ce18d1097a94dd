#!/bin/sh
# keysmith-authorized-keys: sshd's AuthorizedKeysCommand, written by `keysmith ssh-setup`.
# sshd calls it as `keysmith-authorized-keys %u %f` (the user logging in, the key's SHA256 fingerprint)
# and reads the authorized_keys line it prints. It asks Keysmith, with the ssh_server key in the token
# file (read at each call, so replacing the file rotates the key), and fails closed: when Keysmith
# cannot be reached, takes more than 5 seconds or answers an error, it prints no key, writes one line
# to stderr (sshd's log) and exits non-zero. POSIX sh and curl only: no other process per login.
#
# sshd runs it twice for one login: once when the client offers the key, once more when the client
# proves it holds the key. The first answer is kept in CACHE_DIR (the command user's own, mode 0700)
# for at most one second and is used once, by the second run, so one login asks Keysmith once.
KEYSMITH_URL='@KEYSMITH_URL@'
TOKEN_FILE='@TOKEN_FILE@'
MODE='@MODE@'
FORCED_COMMAND='@FORCED_COMMAND@'
CACHE_DIR='@CACHE_DIR@'

# sshd runs this with an almost empty environment; nothing from the client reaches it but %u.
PATH=/usr/local/bin:/usr/bin:/bin
LC_ALL=C
export PATH LC_ALL
unset CURL_HOME SSL_CERT_FILE SSL_CERT_DIR 2>/dev/null

fail() {
  printf 'keysmith-authorized-keys: %s\n' "$1" >&2
  exit 1
}

[ "$#" -eq 2 ] || fail "expected two arguments (sshd's %u %f), got $#; set: AuthorizedKeysCommand $0 %u %f"
user=$1
fingerprint=$2
case $fingerprint in
  SHA256:*) ;;
  *) fail "the fingerprint is not a SHA256 one; remove FingerprintHash from sshd_config (sha256 is the default)" ;;
esac

nl='
'

# The one-second cache. Time is read from /proc/uptime (a builtin read, no process), in hundredths of a
# second; without it, or without CACHE_DIR, every run asks Keysmith. An entry is three lines: when it was
# written, the fingerprint, the authorized_keys line; it is emptied when read.
now=
if [ -n "$CACHE_DIR" ] && { read -r up _ </proc/uptime; } 2>/dev/null; then
  case $up in
    [1-9]*.[0-9][0-9]) now=${up%.*}${up#*.} ;;
  esac
  case $user in
    '' | .* | *[!A-Za-z0-9._-]*) now= ;;
  esac
fi
if [ -n "$now" ]; then
  entry="$CACHE_DIR/$MODE-$user"
  written= cached_fingerprint= line=
  if { IFS= read -r written && IFS= read -r cached_fingerprint && IFS= read -r line; } 2>/dev/null <"$entry"; then
    : 2>/dev/null >"$entry"
    case $written in
      '' | *[!0-9]*) ;;
      *)
        age=$((now - written))
        if [ "$cached_fingerprint" = "$fingerprint" ] && [ "$age" -ge 0 ] && [ "$age" -lt 100 ] && [ -n "$line" ]; then
          printf '%s\n' "$line"
          exit 0
        fi
        ;;
    esac
  fi
fi

token=
{ IFS= read -r token || [ -n "$token" ]; } 2>/dev/null <"$TOKEN_FILE" || fail "cannot read the ssh_server key in $TOKEN_FILE as $(id -un 2>/dev/null); it must be readable by AuthorizedKeysCommandUser"
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
    --data-urlencode "user=$user" --data-urlencode "fingerprint=$fingerprint" \
    --data-urlencode "mode=$MODE" ${FORCED_COMMAND:+--data-urlencode "command=$FORCED_COMMAND"} \
    --write-out '%{http_code}' "$KEYSMITH_URL/v1/ssh/authorized-keys" 2>/dev/null <<CONFIG
header = "Authorization: Bearer $token"
CONFIG
)
status=$?
case $status in
  0) ;;
  6) fail "cannot resolve the host of $KEYSMITH_URL (curl exit 6); no key offered" ;;
  7) fail "cannot connect to Keysmith at $KEYSMITH_URL (curl exit 7); no key offered" ;;
  28) fail "Keysmith at $KEYSMITH_URL did not answer within 5 seconds; no key offered" ;;
  35 | 51 | 58 | 60) fail "TLS with $KEYSMITH_URL failed (curl exit $status); no key offered" ;;
  *) fail "the request to Keysmith at $KEYSMITH_URL failed (curl exit $status); no key offered" ;;
esac

body=${response%???}
code=${response#"$body"}
if [ "$code" != 200 ]; then
  reason=$(printf '%s' "$body" | sed -n 's/.*"code" *: *"\([a-z_]*\)".*/\1/p')
  fail "Keysmith answered HTTP $code${reason:+ ($reason)} to the key lookup; no key offered"
fi
case $body in
  '') exit 0 ;;
  *"$nl"?*) fail "Keysmith answered more than one line to the key lookup; no key offered" ;;
  *"$nl") ;;
  *) fail "Keysmith's answer to the key lookup did not end in a newline; no key offered" ;;
esac
if [ -n "$now" ]; then
  printf '%s\n%s\n%s' "$now" "$fingerprint" "$body" 2>/dev/null >"$entry" || :
fi
printf '%s' "$body"
