#!/usr/bin/env bash
# Run by `npm test` before the tests: the console's browser tests drive Debian's Chromium (Playwright's own
# browser download does not run on this project's machines), so a fresh machine gets it here, once, instead
# of a red first run. CHROMIUM_PATH points the tests at another browser and skips the install.
set -euo pipefail
chromium="${CHROMIUM_PATH:-/usr/bin/chromium}"
[ -x "$chromium" ] && exit 0
if [ -n "${CHROMIUM_PATH:-}" ]; then
  echo "npm test: CHROMIUM_PATH=$CHROMIUM_PATH is not an executable" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "npm test: the console's browser tests need Chromium: install it, or set CHROMIUM_PATH" >&2
  exit 1
fi
echo "npm test: installing Debian's chromium for the console's browser tests (apt-get install chromium, ~1 min)" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo -n"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
[ -x "$chromium" ] || { echo "npm test: chromium was installed but $chromium is missing" >&2; exit 1; }
