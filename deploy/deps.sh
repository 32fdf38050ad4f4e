#!/bin/sh
# deps.sh - install every Debian package Vellum needs to build, serve, test and benchmark.
# Idempotent: installs only what is missing, and runs apt-get update only when it must install.
# Run as root on Debian 12 (the Makefile calls it from `make run` and `make test`).
set -eu

# Beside the libraries of the brief: libzip reads Office attachments (archiver/office_text),
# poppler-utils' pdftotext reads PDF attachments in a child (archiver/pdf_text), catdoc's
# catdoc, xls2csv and catppt read legacy .doc .xls .ppt attachments in a child (archiver/
# legacy_text), qpdf
# makes the password-protected PDF of tests/it/t84-attachment-text.sh, and libxml2-utils'
# xmllint checks the EDRM XML load file in tests/it/t85-export.sh.
PKGS="build-essential pkg-config ca-certificates
libpq-dev postgresql postgresql-contrib
libssl-dev openssl libsodium-dev libzstd-dev zstd
libmicrohttpd-dev libjansson-dev libcunit1-dev libgmime-3.0-dev libzip-dev libnet-ssleay-perl libio-socket-ssl-perl
python3 curl swaks postfix procps psmisc util-linux e2fsprogs time dovecot-lmtpd unzip
poppler-utils catdoc qpdf libxml2-utils"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps.sh: missing packages:$missing; run as root to install them" >&2
	exit 1
fi
echo "deps.sh: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
# Postfix asks a question on install; answer it so the install is unattended.
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
