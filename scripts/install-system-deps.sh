#!/usr/bin/env bash
# Installs the Debian packages minutecard's tests and demo need, only when missing.
# Asterisk 16.28 comes from Debian 11's security suite (Debian 12 ships none); Asterisk 22 LTS
# runs from a private root filesystem made once from Debian's sid (README, "Asterisk versions").
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
command -v mmdebstrap >/dev/null || need+=(mmdebstrap)
# The pay page's browser tests drive Debian's Chromium headless (no browser download).
command -v chromium >/dev/null || need+=(chromium)
command -v chromedriver >/dev/null || need+=(chromium-driver)
command -v npm >/dev/null || need+=(npm)  # axe-core for the pages' accessibility check

want_asterisk=0
command -v asterisk >/dev/null || want_asterisk=1
[ -d /usr/share/asterisk/sounds/de ] || want_asterisk=1

AST22_ROOT="${MINUTECARD_ASTERISK22_ROOT:-/var/cache/minutecard/asterisk22-root}"

asterisk22_root() {
  # Debian serves Asterisk 22 only in sid, linked against a newer libc than Debian 12's, so it
  # gets a root filesystem of its own. The archive is the one this machine's apt uses; sid's
  # Release file may be past its Valid-Until there (a mirror or snapshot), hence the option.
  [ -s "$AST22_ROOT.version" ] && return 0
  local archive partial="$AST22_ROOT.partial"
  archive=$(apt-get indextargets --format '$(REPO_URI) $(ORIGIN) $(LABEL)' 'Identifier: Packages' \
    | awk '$2 == "Debian" && $3 == "Debian" { print $1; exit }')
  $SUDO rm -rf "$partial"
  $SUDO mkdir -p "$(dirname "$AST22_ROOT")"
  $SUDO mmdebstrap --quiet --variant=apt --aptopt='Acquire::Check-Valid-Until "false"' \
    --include=asterisk,asterisk-modules,asterisk-core-sounds-en,asterisk-prompt-de \
    sid "$partial" "${archive:-http://deb.debian.org/debian/}"
  local version
  version=$($SUDO chroot "$partial" /usr/sbin/asterisk -V)
  case "$version" in
    "Asterisk 22."*) ;;
    *) echo "sid now serves $version, not Asterisk 22: see README, Asterisk versions" >&2; exit 1 ;;
  esac
  $SUDO rm -rf "$AST22_ROOT"
  $SUDO mv "$partial" "$AST22_ROOT"
  # Written last: its presence says the root is complete.
  echo "$version" | $SUDO tee "$AST22_ROOT.version" >/dev/null
}

if [ ${#need[@]} -eq 0 ] && [ $want_asterisk -eq 0 ]; then
  asterisk22_root
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
asterisk22_root
