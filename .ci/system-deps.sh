#!/usr/bin/env bash
# Installs the Debian packages the tests run for real: chromium and a Chinese font (browser tests;
# Playwright's own browser download cannot work offline, so we use /usr/bin/chromium) and PostgreSQL
# (the shared job queue of a multi-replica deployment). Tests that need a missing one skip and say so.
set -u
want=()
{ [ -x /usr/bin/chromium ] && fc-list 2>/dev/null | grep -qi "wenquanyi\|wqy"; } || want+=(chromium fonts-wqy-microhei)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || want+=(postgresql)
[ ${#want[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != "0" ]; then
  echo "NOTE: the tests want ${want[*]} (apt); not root, so not installing them. Their tests will be skipped." >&2
  exit 0
fi
echo ">> installing ${want[*]} for the browser and queue tests"
export DEBIAN_FRONTEND=noninteractive
if ! (apt-get update -qq && apt-get install -y -qq "${want[@]}" >/dev/null); then
  echo "NOTE: could not install ${want[*]}; the tests that need them will be skipped." >&2
fi
exit 0
