#!/bin/sh
# keysmith-git-serve: the forced command of every key Keysmith hands sshd in git mode, written by
# `keysmith ssh-setup --mode git`. sshd runs it as `keysmith-git-serve key-<id>` with what the client
# asked for in SSH_ORIGINAL_COMMAND, which is hostile input: it is matched against a closed grammar
# with `case` patterns — one of git-upload-pack, git-receive-pack, git-upload-archive, one space, one
# path of [A-Za-z0-9._/-] (plain or in single quotes), no `..` — and never evaluated by a shell.
# Keysmith decides (POST /v1/ssh/authorize, audited); on `allowed` git runs on the mapped repository,
# otherwise the message goes to stderr (the git client shows it) and the exit status is 1.
KEYSMITH_URL='@KEYSMITH_URL@'
TOKEN_FILE='@TOKEN_FILE@'
GIT_ROOT='@GIT_ROOT@'

PATH=/usr/local/bin:/usr/bin:/bin
LC_ALL=C
export PATH LC_ALL
unset CURL_HOME SSL_CERT_FILE SSL_CERT_DIR 2>/dev/null
# An sshd AcceptEnv could let the client set these; none may steer git to another repository or program.
unset GIT_DIR GIT_WORK_TREE GIT_COMMON_DIR GIT_CONFIG GIT_CONFIG_GLOBAL GIT_CONFIG_SYSTEM GIT_CONFIG_NOSYSTEM \
  GIT_CONFIG_PARAMETERS GIT_CONFIG_COUNT GIT_EXEC_PATH GIT_TEMPLATE_DIR GIT_OBJECT_DIRECTORY \
  GIT_ALTERNATE_OBJECT_DIRECTORIES GIT_NAMESPACE GIT_CEILING_DIRECTORIES GIT_DISCOVERY_ACROSS_FILESYSTEM \
  GIT_INDEX_FILE GIT_SSH GIT_SSH_COMMAND GIT_ASKPASS GIT_TRACE GIT_TRACE_PACKET GIT_TRACE2 \
  GIT_TRACE2_EVENT GIT_TRACE2_PERF GIT_QUARANTINE_PATH LD_PRELOAD LD_LIBRARY_PATH ENV BASH_ENV 2>/dev/null
# GIT_PROTOCOL (protocol v2, sent with SendEnv) is kept only in its plain form.
case ${GIT_PROTOCOL-} in
  *[!A-Za-z0-9=:._-]*) unset GIT_PROTOCOL ;;
esac

refuse() {
  printf '%s\n' "$1" >&2
  exit 1
}

usage='This server only serves git: use git clone, fetch, push or archive with a path such as <account>/<name>.git.'

[ "$#" -eq 1 ] || refuse "keysmith-git-serve: expected one argument (key-<id>), got $#; the server's set-up is broken, tell its administrator."
identity=$1
case $identity in
  key-*[!0-9]* | cert-*[!0-9]*) refuse "keysmith-git-serve: \"$identity\" is not key-<id> or cert-<serial>; the server's set-up is broken, tell its administrator." ;;
  key-?* | cert-?*) ;;
  *) refuse "keysmith-git-serve: \"$identity\" is not key-<id> or cert-<serial>; the server's set-up is broken, tell its administrator." ;;
esac

# What the client sent; never expanded unquoted, never evaluated.
request=${SSH_ORIGINAL_COMMAND-}
verb=${request%% *}
[ "$verb" != "$request" ] || refuse "$usage"
argument=${request#* }
case $verb in
  git-upload-pack) access=read git_command=upload-pack ;;
  git-upload-archive) access=read git_command=upload-archive ;;
  git-receive-pack) access=write git_command=receive-pack ;;
  *) refuse "$usage" ;;
esac
case $argument in
  \'*\') path=${argument#\'} path=${path%\'} ;;
  *) path=$argument ;;
esac
case $path in
  '' | *[!A-Za-z0-9._/-]* | *..*) refuse "The repository path must be <account>/<name>.git of letters, digits, '.', '_', '-' and '/' only (no '..'): $usage" ;;
esac

# [/]<account>/<name>[.git] or [/]<vcs>/<account>/<name>[.git]; gh when no vcs is given.
rest=${path#/}
rest=${rest%.git}
case $rest in
  */*/*/* | /* | */ | *//*) refuse "There is no repository $path: use <account>/<name>.git." ;;
  */*/*)
    vcs=${rest%%/*} rest=${rest#*/}
    account=${rest%%/*} name=${rest#*/}
    ;;
  */*) vcs=gh account=${rest%%/*} name=${rest#*/} ;;
  *) refuse "There is no repository $path: use <account>/<name>.git." ;;
esac
for segment in "$vcs" "$account" "$name"; do
  case $segment in
    '' | .) refuse "There is no repository $path: use <account>/<name>.git." ;;
  esac
done
if [ "$vcs" = gh ]; then
  repository="$GIT_ROOT/$account/$name.git"
else
  repository="$GIT_ROOT/$vcs/$account/$name.git"
fi

token=
{ IFS= read -r token || [ -n "$token" ]; } 2>/dev/null <"$TOKEN_FILE" ||
  refuse "keysmith-git-serve: cannot read the server's Keysmith key; tell the server's administrator."
case $token in
  kss_*[!A-Za-z0-9_]* | '') refuse "keysmith-git-serve: the server's Keysmith key is malformed; tell the server's administrator." ;;
  kss_*) ;;
  *) refuse "keysmith-git-serve: the server's Keysmith key is malformed; tell the server's administrator." ;;
esac

# Every value below matched [A-Za-z0-9._-] above, so the JSON needs no escaping.
response=$(
  printf 'header = "Authorization: Bearer %s"\n' "$token" |
    curl --disable --config - --silent --max-time 5 --proto =http,https \
      -H 'Content-Type: application/json' \
      --data-binary "{\"key\":\"$identity\",\"project\":\"$vcs/$account/$name\",\"access\":\"$access\"}" \
      --write-out '%{http_code}' "$KEYSMITH_URL/v1/ssh/authorize" 2>/dev/null
)
status=$?
case $status in
  0) ;;
  28) refuse "Access to $path cannot be checked: Keysmith did not answer within 5 seconds. Try again; if it persists, tell the server's administrator." ;;
  *) refuse "Access to $path cannot be checked: Keysmith cannot be reached (curl exit $status). Try again; if it persists, tell the server's administrator." ;;
esac
body=${response%???}
code=${response#"$body"}

# The sentence Keysmith wrote for a person (a refusal's, or an error's), JSON escapes undone.
message_of() {
  printf '%s' "$1" | sed -n 's/.*"message":"\(\([^"\\]\|\\.\)*\)".*/\1/p' | sed 's/\\\(["\\/]\)/\1/g'
}

case $code in
  200) ;;
  400)
    message=$(message_of "$body")
    refuse "${message:-Keysmith refused the request for $path (HTTP 400).}"
    ;;
  *) refuse "Access to $path cannot be checked: Keysmith answered HTTP $code. Tell the server's administrator." ;;
esac
case $body in
  *'"allowed":true'*)
    # exec: git's exit status is the session's; the path is one argument, never re-split.
    exec git "$git_command" "$repository"
    ;;
  *'"allowed":false'*)
    message=$(message_of "$body")
    refuse "${message:-Access to $path is refused.}"
    ;;
  *) refuse "Access to $path cannot be checked: Keysmith's answer was not understood. Tell the server's administrator." ;;
esac
