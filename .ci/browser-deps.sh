#!/usr/bin/env bash
# Installs what the browser tests need: Debian's chromium and a Chinese font.
# Playwright's own browser download cannot work offline, so we use /usr/bin/chromium.
set -u
if [ -x /usr/bin/chromium ] && fc-list 2>/dev/null | grep -qi "wenquanyi\|wqy"; then
  exit 0
fi
if [ "$(id -u)" != "0" ]; then
  echo "NOTE: browser tests need 'chromium' and 'fonts-wqy-microhei' (apt); not root, so not installing them. Browser tests will be skipped." >&2
  exit 0
fi
echo ">> installing chromium and fonts-wqy-microhei for the browser tests"
export DEBIAN_FRONTEND=noninteractive
if ! (apt-get update -qq && apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null); then
  echo "NOTE: could not install chromium/fonts-wqy-microhei; browser tests will be skipped." >&2
fi
exit 0
