#!/usr/bin/env bash
# The release profile, exercised up to the one step that needs credentials (docs/releasing.md):
#   1. copies this working tree (without target/ and .git) to a temp directory and sets the
#      release version there (.ci/set-version.py: X.Y.Z-SNAPSHOT -> X.Y.Z; a SNAPSHOT would go to
#      Central's snapshot repository, which builds no bundle);
#   2. makes a throwaway signing key in a temp GNUPGHOME (no passphrase, batch mode);
#   3. runs `mvn -f all/pom.xml -Prelease deploy` with -Dcentral.skipUpload=true: every published
#      artifact is built (jar, -sources.jar, -javadoc.jar), signed by maven-gpg-plugin and staged
#      by central-publishing-maven-plugin, which writes target/central-publishing/central-bundle.zip
#      and stops before the upload (the upload needs a Central Portal token);
#   4. .ci/release-check.py checks that bundle as Central's validation would.
# Tests are skipped: `mvn -f all/pom.xml verify` ran them just before. Nothing is installed into
# the local Maven repository and nothing leaves the machine but Maven's own plugin downloads.
#
#   .ci/release-check.sh            # from the repository root (CI runs it after verify)
#   KEEP=1 .ci/release-check.sh     # keep the temp directory (bundle) for a look
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v gpg >/dev/null 2>&1; then
  echo "== release check: SKIPPED: no gpg on PATH (Debian package 'gnupg'); the release profile was not exercised"
  exit 0
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/llmpool-release.XXXXXX")"
export GNUPGHOME="$work/gnupg"
cleanup() {
  gpgconf --kill gpg-agent >/dev/null 2>&1 || true
  if [[ "${KEEP:-0}" == "1" ]]; then echo "release check: kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

src="$work/src"
mkdir -p "$src" "$GNUPGHOME"
chmod 700 "$GNUPGHOME"
tar --exclude=./.git --exclude=./target --exclude='*/target' -cf - . | tar -xf - -C "$src"

snapshot="$(python3 -c 'import sys,xml.etree.ElementTree as E; print(E.parse(sys.argv[1]).getroot().findtext("{http://maven.apache.org/POM/4.0.0}version"))' pom.xml)"
release="${snapshot%-SNAPSHOT}"
python3 "$src/.ci/set-version.py" "$release" >/dev/null

if ! gpg --batch --quiet --passphrase '' --quick-generate-key 'llmpool CI throwaway key <ci@llmpool.invalid>' \
    ed25519 sign 1d 2> "$work/gpg.log"; then
  cat "$work/gpg.log" >&2
  echo "release check: FAILED: gpg could not make a throwaway key" >&2
  exit 1
fi
fpr="$(gpg --batch --no-auto-check-trustdb --with-colons --list-secret-keys 2>/dev/null | awk -F: '$1 == "fpr" { print $10; exit }')"
if [[ -z "$fpr" ]]; then
  echo "release check: FAILED: no secret key in $GNUPGHOME after gpg --quick-generate-key" >&2
  exit 1
fi
gpg --batch --armor --export "$fpr" > "$work/signing-key.asc"

echo "== release check: mvn -Prelease deploy of $release (signed with throwaway key ${fpr: -16}), bundle only, no upload"
(cd "$src" && mvn -B -q -f all/pom.xml -Prelease deploy \
  -DskipTests -Dmaven.install.skip=true -Dcentral.skipUpload=true -Dgpg.keyname="$fpr")

# The plugin writes the bundle under the reactor's top directory: all/ aggregates .., so that is the
# repository root (target/central-publishing/central-bundle.zip).
bundle="$src/target/central-publishing/central-bundle.zip"
python3 .ci/release-check.py "$bundle" \
  --version "$release" --bom "$src/integrations/llmpool-bom/pom.xml" --key "$work/signing-key.asc"
echo "release check: took ${SECONDS}s"
