#!/usr/bin/env bash
# README's two commands on the plainest fresh machine there is: a bare node:22-slim container
# (Node and npm, no dig, python3, ip or compiler, no IPv6 loopback) with a clean copy of HEAD.
#   npm install           must succeed without building the addon, and leave package-lock.json as it is
#   npm test              must pass, the tests that need a missing tool skipped and summed up
#   npm start             must serve on IPv4 alone, saying why [::1] was left out
#   meridian query        must get an answer from it
#   Ctrl-C (SIGINT)       must stop it cleanly
# Needs a running dockerd and the node:22-slim image; the container reaches only the npm
# registry this machine's npm uses. Runnable alone: bash .ci/bare-container.sh
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE=${MERIDIAN_BARE_IMAGE:-node:22-slim}
APP=/home/node/meridian
name="meridian-bare-$$"

section() { printf '\n=== [%4ds] %s\n' "$SECONDS" "$*"; }
fail() {
  printf '\n=== [%4ds] FAILED: %s\n' "$SECONDS" "$*" >&2
  exit 1
}
# Every step runs with a time limit: a hung install or server must not hold CI for hours.
in_box() {
  local limit=$1
  shift
  timeout --kill-after=10 "$limit" docker exec "$name" "$@"
}
# `kill` is a shell builtin: there is no /bin/kill in the image.
running() { in_box 10 sh -c "kill -0 $1" 2>/dev/null; }
cleanup() { docker rm -f "$name" >/dev/null 2>&1 || true; }
trap cleanup EXIT

docker image inspect "$IMAGE" >/dev/null 2>&1 || fail "no image $IMAGE (build it: shared/docker/make-node-image)"

# npm in the container asks the registry this machine's npm uses (read now, never written down),
# through the same proxy if there is one. The MERIDIAN_REQUIRE_* variables are not passed on:
# this is a user's machine, where missing tools are skipped, not CI's, where they fail.
env_args=(-e "npm_config_registry=$(npm config get registry)" -e npm_config_update_notifier=false -e npm_config_fund=false -e npm_config_audit=false)
for v in HTTP_PROXY HTTPS_PROXY NO_PROXY http_proxy https_proxy no_proxy; do
  if [ -n "${!v:-}" ]; then env_args+=(-e "$v"); fi
done

section "container from $IMAGE, a clean copy of $(git rev-parse --short HEAD) at $APP"
docker run -d --init --name "$name" "${env_args[@]}" -w "$APP" "$IMAGE" sleep infinity >/dev/null
in_box 30 mkdir -p "$APP"
git archive --format=tar HEAD | docker exec -i "$name" tar -x -C "$APP"
for tool in dig python3 ip; do
  if in_box 10 sh -c "command -v $tool" >/dev/null; then fail "$IMAGE has $tool: this is not a bare machine"; fi
done
if in_box 10 sh -c 'grep -q "00000000000000000000000000000001" /proc/net/if_inet6 2>/dev/null'; then
  echo "note: this container has ::1, so npm start will not need to leave it out"
fi

section "npm install"
start=$SECONDS
in_box 600 npm install || fail "npm install"
echo "(npm install: $((SECONDS - start)) s)"
# npm 10 (in the image) must leave the committed lock file alone.
if ! lock_diff=$(in_box 30 cat "$APP/package-lock.json" | diff -u <(git show HEAD:package-lock.json) -); then
  head -40 <<<"$lock_diff"
  fail "npm install (npm $(in_box 10 npm --version)) rewrote package-lock.json (the diff is above)"
fi
echo "package-lock.json unchanged by npm $(in_box 10 npm --version)"

section "npm test"
start=$SECONDS
in_box 2400 npm test || fail "npm test"
echo "(npm test: $((SECONDS - start)) s)"

section "npm start (in the background, as its own process group, like a terminal)"
start=$SECONDS
in_box 10 sh -c "setsid sh -c 'echo \$\$ >/tmp/start.pid; exec npm start >/tmp/start.log 2>&1; ' & sleep 1"
pid=$(in_box 10 cat /tmp/start.pid)
until in_box 10 grep -q 'Meridian is up' /tmp/start.log; do
  if ! running "$pid"; then
    in_box 10 cat /tmp/start.log || true
    fail "npm start exited before serving"
  fi
  if [ $((SECONDS - start)) -gt 180 ]; then
    in_box 10 cat /tmp/start.log || true
    fail "npm start did not serve within 180 s"
  fi
  sleep 2
done
in_box 10 cat /tmp/start.log
echo "(npm start: serving after $((SECONDS - start)) s)"
in_box 10 grep -q 'left out: this machine has no address ::1' /tmp/start.log ||
  in_box 10 sh -c 'grep -q "00000000000000000000000000000001" /proc/net/if_inet6 2>/dev/null' ||
  fail "npm start did not say it left out [::1]:5353"

section "node bin/meridian.js query www.demo.test"
answer=$(in_box 30 node bin/meridian.js query www.demo.test) || fail "meridian query: $answer"
echo "$answer"
grep -q 'NOERROR' <<<"$answer" || fail "meridian query got no NOERROR answer"

section "Ctrl-C: SIGINT to npm start's process group"
in_box 10 sh -c "kill -INT -$pid"
for _ in $(seq 30); do
  running "$pid" || break
  sleep 1
done
if running "$pid"; then fail "npm start still runs 30 s after SIGINT"; fi
in_box 10 tail -n 5 /tmp/start.log
# Every process up started must be gone (no ps in the image: read /proc).
left=$(in_box 10 sh -c 'for f in /proc/[0-9]*/cmdline; do tr "\0" " " <"$f" 2>/dev/null; echo; done' | grep 'bin/meridian.js' || true)
[ -z "$left" ] || fail "processes left after SIGINT: $left"
in_box 10 grep -qx 'stopped.' /tmp/start.log || fail "meridian up did not say it stopped"
if in_box 10 grep -Eq '\] ERROR |died' /tmp/start.log; then fail "npm start logged an error or a dead process"; fi

section "bare container: all steps passed in $SECONDS s"
