#!/usr/bin/env bash
# Installs the Debian packages minutecard's tests and demo need, only when missing.
# Asterisk 16.28 comes from Debian 11's security suite (Debian 12 ships none); see README.md.
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

need=()
command -v sox >/dev/null || need+=(sox)
command -v espeak-ng >/dev/null || need+=(espeak-ng)
command -v sipp >/dev/null || need+=(sip-tester)
[ -x /usr/lib/postgresql/15/bin/initdb ] || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
command -v runuser >/dev/null || need+=(util-linux)
command -v pdftotext >/dev/null || need+=(poppler-utils)

want_asterisk=0
command -v asterisk >/dev/null || want_asterisk=1
[ -d /usr/share/asterisk/sounds/de ] || want_asterisk=1

if [ ${#need[@]} -eq 0 ] && [ $want_asterisk -eq 0 ]; then
  exit 0
fi

if [ $want_asterisk -eq 1 ] && [ ! -f /etc/apt/sources.list.d/minutecard-bullseye.list ]; then
  echo "deb http://deb.debian.org/debian bullseye main
deb http://deb.debian.org/debian-security bullseye-security main" \
    | $SUDO tee /etc/apt/sources.list.d/minutecard-bullseye.list >/dev/null
  # Two stanzas separated by a blank line: apt reads only the last one otherwise.
  printf 'Package: *\nPin: release n=bullseye\nPin-Priority: 100\n\nPackage: *\nPin: release n=bullseye-security\nPin-Priority: 100\n' \
    | $SUDO tee /etc/apt/preferences.d/minutecard-bullseye >/dev/null
fi

$SUDO apt-get update -qq
# Keep the distribution's own Asterisk and PostgreSQL services from starting on their default ports.
printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
$SUDO chmod +x /usr/sbin/policy-rc.d
trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT

if [ ${#need[@]} -gt 0 ]; then
  $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
if [ $want_asterisk -eq 1 ]; then
  $SUDO apt-get install -y -qq --no-install-recommends -t bullseye-security asterisk asterisk-prompt-de
fi
