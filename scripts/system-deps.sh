#!/usr/bin/env bash
# Installs the Debian packages the tests use, only when one is missing (so a second run does nothing).
# Each entry is "command:package".
set -euo pipefail
# Chromium: the review UI's browser tests (Playwright drives Debian's chromium; no browser download).
# (bench/accuracy.py also uses tesseract-ocr and ssocr, not needed by the tests.)
needed=(
  "chromium:chromium"
)
missing=()
for entry in "${needed[@]}"; do
  command -v "${entry%%:*}" >/dev/null 2>&1 || missing+=("${entry##*:}")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing Debian packages: ${missing[*]}"
sudo_cmd=""
[ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
$sudo_cmd apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}"
