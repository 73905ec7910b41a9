"""The preview shows every development character: one still through the video's own render
path (``preview.still``: camera, Workbench shading, materials) per character, at low
resolution, and its silhouette must cover a sensible part of the picture.

Quaternius-style files carry materials with alpha 0 (glTF alpha MASK, baseColorFactor alpha 0):
drawn as they come, the video was empty frames.
"""

from __future__ import annotations

import numpy as np
import pytest

bpy = pytest.importorskip("bpy")

from riginputs import eval_characters  # noqa: E402 (after the importorskip of bpy)
from test_animation import build_rig  # noqa: E402 (after the importorskip of bpy)

from autorig.blender import preview  # noqa: E402 (after the importorskip of bpy)

pytestmark = pytest.mark.slow

SIZE = 96
# A pixel is the character when some channel differs from the background by more than this.
DIFFERS = 0.08
# The character fills a sensible share of the frame (visible, not cropped to a close-up).
COVER = (0.02, 0.6)


def _cover(path) -> float:
    image = bpy.data.images.load(str(path))
    try:
        w, h = image.size
        rgb = np.array(image.pixels[:], dtype=np.float32).reshape(h, w, 4)[..., :3]
    finally:
        bpy.data.images.remove(image)
    background = np.median(np.concatenate([rgb[0], rgb[-1], rgb[:, 0], rgb[:, -1]]), axis=0)
    return float((np.abs(rgb - background).max(axis=2) > DIFFERS).mean())


@pytest.mark.parametrize("model", eval_characters(), ids=lambda p: p.name)
def test_every_character_shows_in_the_preview(model, tmp_path):
    rig = build_rig(model)
    cover = _cover(preview.still(rig, tmp_path / "still.png", SIZE))
    assert COVER[0] < cover < COVER[1], f"{model.name}: the character covers {cover:.3f} of the frame"
