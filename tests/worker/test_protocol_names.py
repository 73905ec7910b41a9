"""Output names (``protocol.safe_name`` / ``output_files``, used by worker and backend alike):
whatever the upload was called, no download can take a free preview's name."""

from __future__ import annotations

import pytest

from autorig.protocol import PREVIEWS, is_download, output_files, safe_name


@pytest.mark.parametrize(
    "upload",
    ["viewer", "Viewer", "VIEWER", "preview", "rig", "viewer.glb", "preview.mp4", "rig.json", "viewer..", " viewer ",
     "../viewer", "", "...", "héllo wörld", "x" * 300, "model", "a/b\\c"],
)  # fmt: skip
def test_downloads_never_collide_with_previews(upload):
    names = output_files(upload)
    lower = [n.lower() for n in names]
    assert len(set(lower)) == len(names), names
    assert names[-len(PREVIEWS) :] == list(PREVIEWS)
    downloads = names[: -len(PREVIEWS)]
    assert all(is_download(n) for n in downloads)
    assert not {n.lower() for n in downloads} & {p.lower() for p in PREVIEWS}
    assert all("/" not in n and "\\" not in n and not n.startswith(".") for n in names)


def test_reserved_names_get_a_suffix_and_others_stay():
    assert safe_name("viewer") == "viewer_model"
    assert output_files("viewer")[0] == "viewer_model.glb"
    assert safe_name("Preview") == "Preview_model"
    assert safe_name("My Hero!") == "My_Hero"
    assert safe_name("") == "model"
    assert len(safe_name("x" * 300)) <= 80


@pytest.mark.parametrize("name", ["viewer", "x" * 300, "rig", "My Hero!", "héllo"])
def test_safe_name_is_stable(name):
    """The worker passes an already safe name to the engine, which makes it safe again."""
    assert safe_name(safe_name(name)) == safe_name(name)
