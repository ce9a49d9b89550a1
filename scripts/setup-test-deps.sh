#!/usr/bin/env bash
# What the test suite needs beyond cargo. Idempotent, and quick when all is
# there; run by .ci/run before the tests.
# - From Debian's packages: systemd-analyze (tests/systemd_unit.rs and
#   tests/deb_package.rs check the unit with it); lintian, dpkg-dev
#   (dpkg-shlibdeps, for the package's Depends), binutils (strip) and adduser
#   (tests/deb_package.rs builds, lints and installs the Debian package);
#   xmllint from libxml2-utils (protocol's MM7 tests check every encoded
#   SOAP message is well-formed XML with it); sipp from sip-tester (the
#   independent SIP implementation tests/sip.rs talks to) and socat (OpenSSL
#   TLS in front of sipp, whose Debian build has no TLS).
# - From crates.io: cargo-deb, pinned (scripts/package-deb.sh); the first
#   install compiles it, about a minute and a half on 2 cores.
# - From PyPI, pinned, in a virtualenv of their own (tests/openapi.rs):
#   openapi-spec-validator (the document is valid OpenAPI 3.1) and
#   schemathesis (the property-based API fuzzer driven by it).
set -euo pipefail

CARGO_DEB_VERSION=3.8.0
SCHEMATHESIS_VERSION=4.32.5
OPENAPI_SPEC_VALIDATOR_VERSION=0.9.0
TOOLS="${CARRIER_GATEWAY_TEST_TOOLS:-$HOME/.cache/carrier-gateway-test-tools}"

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"

missing=()
command -v systemd-analyze >/dev/null 2>&1 || missing+=(systemd)
command -v lintian >/dev/null 2>&1 || missing+=(lintian)
command -v dpkg-shlibdeps >/dev/null 2>&1 || missing+=(dpkg-dev)
command -v strip >/dev/null 2>&1 || missing+=(binutils)
command -v adduser >/dev/null 2>&1 || missing+=(adduser)
command -v xmllint >/dev/null 2>&1 || missing+=(libxml2-utils)
command -v sipp >/dev/null 2>&1 || missing+=(sip-tester)
command -v socat >/dev/null 2>&1 || missing+=(socat)

if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if [ "$(cargo deb --version 2>/dev/null)" != "cargo-deb $CARGO_DEB_VERSION" ]; then
  echo "installing: cargo-deb $CARGO_DEB_VERSION"
  cargo install cargo-deb --version "$CARGO_DEB_VERSION" --locked --quiet
fi

venv="$TOOLS/venv"
if ! "$venv/bin/schemathesis" --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION" \
  || ! "$venv/bin/pip" show openapi-spec-validator 2>/dev/null | grep -q "^Version: $OPENAPI_SPEC_VALIDATOR_VERSION"; then
  echo "installing: schemathesis $SCHEMATHESIS_VERSION, openapi-spec-validator $OPENAPI_SPEC_VALIDATOR_VERSION into $venv"
  if ! python3 -m venv --help >/dev/null 2>&1; then
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends python3-venv
  fi
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check \
    "schemathesis==$SCHEMATHESIS_VERSION" "openapi-spec-validator==$OPENAPI_SPEC_VALIDATOR_VERSION"
fi
