#!/bin/bash
# Build "Recotap Desktop.app" and a .dmg on macOS; sign, notarise and staple when the
# credentials are there (see packaging/README.md).
#
#   bash packaging/macos/build-dmg.sh
#
# Environment:
#   PYTHON                      the Python with '.[package]' installed (default .venv/bin/python)
#   RECOTAP_CODESIGN_IDENTITY   "Developer ID Application: <Name> (<TEAMID>)". Unset: ad-hoc
#                               signature (runs on this Mac; Gatekeeper blocks it elsewhere).
#   NOTARY_PROFILE              a keychain profile made with `xcrun notarytool store-credentials`
#   or NOTARY_KEY, NOTARY_KEY_ID, NOTARY_ISSUER   an App Store Connect API key (.p8 file)
#
# Output: dist/Recotap Desktop.app and dist/recotap-desktop-<version>-macos-<arch>.dmg
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PYTHON:-.venv/bin/python}
VERSION=$("$PY" -c 'import recotap_desktop; print(recotap_desktop.__version__)')
ARCH=$(uname -m)
APP="dist/Recotap Desktop.app"
DMG="dist/recotap-desktop-$VERSION-macos-$ARCH.dmg"
IDENTITY=${RECOTAP_CODESIGN_IDENTITY:-}

echo "== PyInstaller: Recotap Desktop $VERSION ($ARCH)"
# With RECOTAP_CODESIGN_IDENTITY the spec makes PyInstaller sign every collected binary,
# both executables and finally the .app itself with that identity, the hardened runtime
# (--options=runtime), a secure timestamp and packaging/macos/entitlements.plist.
# Without it, everything is signed ad hoc (Apple Silicon refuses unsigned code).
PYINSTALLER_STRICT_BUNDLE_CODESIGN_ERROR=1 "$PY" -m PyInstaller --noconfirm --clean \
  --log-level WARN --distpath dist --workpath build/pyinstaller packaging/recotap-desktop.spec

plist_version=$(/usr/libexec/PlistBuddy -c "Print :CFBundleShortVersionString" "$APP/Contents/Info.plist")
[ "$plist_version" = "$VERSION" ] || { echo "Info.plist has $plist_version, expected $VERSION" >&2; exit 1; }
test -x "$APP/Contents/MacOS/recotap-desktop" && test -x "$APP/Contents/MacOS/recotap"

echo "== verify the signature"
codesign --verify --deep --strict --verbose=2 "$APP"
codesign --display --verbose=2 "$APP" 2>&1 | grep -E "^(Identifier|Authority|TeamIdentifier|Runtime)" || true

echo "== .dmg"
STAGE=build/dmg
rm -rf "$STAGE" "$DMG"
mkdir -p "$STAGE"
ditto "$APP" "$STAGE/Recotap Desktop.app"   # ditto keeps symlinks and signatures intact
ln -s /Applications "$STAGE/Applications"
hdiutil create -volname "Recotap Desktop $VERSION" -srcfolder "$STAGE" -fs HFS+ \
  -format UDZO -ov "$DMG"

if [ -n "$IDENTITY" ]; then
  echo "== sign the .dmg"
  codesign --force --sign "$IDENTITY" --timestamp "$DMG"
  auth=()
  if [ -n "${NOTARY_PROFILE:-}" ]; then
    auth=(--keychain-profile "$NOTARY_PROFILE")
  elif [ -n "${NOTARY_KEY:-}" ] && [ -n "${NOTARY_KEY_ID:-}" ] && [ -n "${NOTARY_ISSUER:-}" ]; then
    auth=(--key "$NOTARY_KEY" --key-id "$NOTARY_KEY_ID" --issuer "$NOTARY_ISSUER")
  fi
  if [ ${#auth[@]} -gt 0 ]; then
    echo "== notarise (waits for Apple's answer) and staple"
    # Notarising the .dmg covers the app inside it; the ticket is stapled to the .dmg.
    xcrun notarytool submit "$DMG" "${auth[@]}" --wait --timeout 30m
    xcrun stapler staple "$DMG"
    xcrun stapler validate "$DMG"
    spctl --assess --type open --context context:primary-signature --verbose=2 "$DMG"
  else
    echo "note: no notary credentials (NOTARY_PROFILE or NOTARY_KEY*): not notarised"
  fi
else
  echo "note: RECOTAP_CODESIGN_IDENTITY not set: ad-hoc signature, not notarised"
fi
ls -l "$DMG"
