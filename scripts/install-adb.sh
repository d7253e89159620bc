#!/usr/bin/env bash
# The phone tests drive the real adb client. Install Debian's `adb` when it is missing;
# without it those tests skip (and say why).
command -v adb >/dev/null 2>&1 && exit 0
run() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null 2>&1; then sudo -n "$@"; else return 1; fi; }
echo "installing adb (apt-get) for the phone tests"
if command -v apt-get >/dev/null 2>&1; then
    run apt-get install -y -qq adb >/dev/null 2>&1 || { run apt-get update -qq >/dev/null 2>&1 && run apt-get install -y -qq adb >/dev/null 2>&1; }
fi
command -v adb >/dev/null 2>&1 || echo "adb could not be installed here: the phone tests will be skipped (install it: apt-get install adb)"
exit 0
