#!/usr/bin/env bash
# test-deps.sh: install what the service tests need when it is missing: a
# headless Chromium for the review UI test and a PostgreSQL server for the
# store test, both from Debian. "make test" runs it first, so that the test
# command alone works on a fresh machine. MEDCODE_NO_BROWSER=1 and
# MEDCODE_NO_POSTGRES=1 opt out of those tests, and of their installs.
set -euo pipefail
need=()
if [ -z "${MEDCODE_NO_BROWSER:-}" ] && ! command -v chromium >/dev/null 2>&1; then
	need+=(chromium)
fi
if [ -z "${MEDCODE_NO_POSTGRES:-}" ] && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
	need+=(postgresql)
fi
if [ ${#need[@]} -eq 0 ]; then
	exit 0
fi
echo "installing ${need[*]} from Debian for the service tests"
sudo=()
if [ "$(id -u)" -ne 0 ]; then
	sudo=(sudo)
fi
"${sudo[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${need[@]}" >/dev/null
