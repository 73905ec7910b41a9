"""FBX textures read back by an independent reader (assimp, Debian's ``assimp-utils``): bones, and
every embedded texture under a name with its real extension (three.js's FBXLoader skips a texture
whose name has none, as Blender's exporter gave packed images: ``…fbm/Image_0``)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

bpy = pytest.importorskip("bpy")

from test_animation import build_rig  # noqa: E402 (after the importorskip of bpy)

from autorig.blender import export  # noqa: E402 (after the importorskip of bpy)

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
NODE = shutil.which("node")
# three.js's FBXLoader in Node: no image decoding there, so ImageLoader records the URL each
# texture would load; a blob: URL means the embedded image was recognised and used.
THREE_FBX = """
import { readFile } from "node:fs/promises";
globalThis.self = globalThis;
const THREE = await import("REPO/node_modules/three/build/three.module.js");
THREE.ImageLoader.prototype.load = function (url, onLoad) {
  const image = { src: url, width: 1, height: 1 };
  if (onLoad) onLoad(image);
  return image;
};
const { FBXLoader } = await import("REPO/node_modules/three/examples/jsm/loaders/FBXLoader.js");
const bytes = await readFile(process.argv[2]);
const group = new FBXLoader().parse(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength), "");
const maps = [];
let bones = 0;
group.traverse((o) => {
  if (o.isBone) bones += 1;
  if (o.isMesh) for (const m of [].concat(o.material)) if (m.map) maps.push(String(m.map.image && m.map.image.src));
});
console.log(JSON.stringify({ bones, maps }));
"""


ASSIMP = shutil.which("assimp")
# PNG, JPEG and WebP textures.
TEXTURED = ("kenney__character_female_a", "avatarhwb__Female_Android", "colosos__kaykit_knight")


def _assimp_info(path: Path) -> tuple[dict[str, int], list[str]]:
    """Counts (``Bones``, ``Textures (embed.)``, ...) and texture references from ``assimp info``."""
    out = subprocess.run([ASSIMP, "info", str(path)], capture_output=True, text=True, timeout=120, check=True).stdout
    counts, refs, in_refs = {}, [], False
    for line in out.splitlines():
        if ":" in line and line.split(":", 1)[1].strip().isdigit():
            counts[line.split(":", 1)[0].strip()] = int(line.split(":", 1)[1])
        if line.startswith("Texture Refs"):
            in_refs = True
        elif in_refs and line.strip().startswith("'"):
            refs.append(line.strip().strip("'"))
        elif in_refs and line.strip():
            in_refs = False
    return counts, refs


@pytest.mark.skipif(ASSIMP is None, reason="assimp (Debian's assimp-utils) is not installed")
@pytest.mark.parametrize("character", TEXTURED)
def test_fbx_embedded_textures_have_names_with_extensions(eval_data, tmp_path, character):
    """Embedded textures were named ``…fbm/Image_0``; three.js's FBXLoader skips a texture
    whose name has no image extension. assimp reads the file back: bones, and every texture
    embedded under a name with its real extension, whose bytes are that image format."""
    rig = build_rig(eval_data / "unrigged" / f"{character}.glb")
    (tmp_path / "out").mkdir()
    path = export.export_fbx(tmp_path / "out" / f"{character}.fbx", rig.objects)
    assert not [p for p in path.parent.iterdir() if p != path]  # no texture folder or temporary file left
    counts, refs = _assimp_info(path)
    assert counts["Bones"] >= 20 and counts["Meshes"] >= 1
    assert counts["Textures (embed.)"] >= 1 and refs
    magic = {".png": b"\x89PNG", ".jpg": b"\xff\xd8", ".jpeg": b"\xff\xd8", ".webp": b"RIFF"}
    for ref in refs:
        suffix = Path(ref).suffix.lower()
        assert suffix in magic, ref
        assert Path(ref).parts[0] == f"{character}.fbm", ref
    # The embedded bytes really are those images.
    extracted = tmp_path / "extracted"
    extracted.mkdir()
    subprocess.run([ASSIMP, "extract", str(path), str(extracted / "tex")], capture_output=True, timeout=120, check=True)
    files = sorted(extracted.iterdir())
    assert files, "assimp extracted no texture"
    assert all(f.read_bytes()[:2] in (b"\x89P", b"\xff\xd8", b"RI") for f in files), [f.name for f in files]


@pytest.mark.skipif(NODE is None or not (REPO / "node_modules" / "three").is_dir(), reason="needs Node.js and npm ci")
@pytest.mark.parametrize("character", TEXTURED)
def test_fbx_textures_load_in_threejs(eval_data, tmp_path, character):
    """three.js's FBXLoader uses every embedded texture (it skipped names without an extension)."""
    import json

    rig = build_rig(eval_data / "unrigged" / f"{character}.glb")
    path = export.export_fbx(tmp_path / f"{character}.fbx", rig.objects)
    script = tmp_path / "fbx.mjs"
    script.write_text(THREE_FBX.replace("REPO", str(REPO)))
    r = subprocess.run([NODE, str(script), str(path)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    result = json.loads(r.stdout.strip().splitlines()[-1])
    assert result["bones"] >= 20
    assert result["maps"] and all(src.startswith("blob:") for src in result["maps"]), (result["maps"], r.stderr[-500:])
