#!/usr/bin/env bash
# Copy three.js (from node_modules, installed by `npm ci`) into the web pages' static folder:
# the 3D viewer loads it from there through an import map, never from a CDN. Only the files the
# viewer imports are copied (the module build, the glTF/Draco loaders with the Draco decoder,
# the meshopt decoder, orbit controls). Idempotent; `./dev setup` runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
SRC=node_modules/three
DEST=src/autorig/web/static/vendor/three
if [ ! -f "$SRC/build/three.module.js" ]; then
  echo "build_static: $SRC is missing; run 'npm ci' first (./dev setup does)" >&2
  exit 1
fi
FILES=(
  LICENSE
  package.json
  build/three.module.js
  build/three.core.js
  examples/jsm/loaders/GLTFLoader.js
  examples/jsm/loaders/DRACOLoader.js
  examples/jsm/controls/OrbitControls.js
  examples/jsm/utils/BufferGeometryUtils.js
  examples/jsm/utils/SkeletonUtils.js
  examples/jsm/libs/meshopt_decoder.module.js
  examples/jsm/libs/draco/gltf/draco_decoder.js
  examples/jsm/libs/draco/gltf/draco_decoder.wasm
  examples/jsm/libs/draco/gltf/draco_wasm_wrapper.js
)
version=$(node -p "require('./$SRC/package.json').version" 2>/dev/null || echo unknown)
if [ -f "$DEST/.version" ] && [ "$(cat "$DEST/.version")" = "$version" ] \
   && [ "$(cat "$DEST/.files" 2>/dev/null)" = "${FILES[*]}" ]; then
  exit 0  # already copied
fi
rm -rf "$DEST"
for f in "${FILES[@]}"; do
  mkdir -p "$DEST/$(dirname "$f")"
  cp "$SRC/$f" "$DEST/$f"
done
echo "$version" > "$DEST/.version"
echo "${FILES[*]}" > "$DEST/.files"
echo "build_static: three.js $version copied to $DEST" >&2
