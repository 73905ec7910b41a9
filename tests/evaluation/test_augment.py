"""The augmented evaluation cases (evaluation/augment.py): the ground truth goes exactly where
the augmentation takes the character.

Cheap cases on small artist rigs (numpy only, from the evaluation cache), plus one case
written as GLB through Blender and read back, and the per-kind report on made-up rows.
"""

from __future__ import annotations

import numpy as np
import pytest

from autorig.evaluation import augment
from autorig.evaluation.augment_run import format_characters, summarize, swaps
from autorig.evaluation.dataset import load_cached

# Small rigs of different conventions: Mixamo names facing +X; KayKit chibi without neck.
CHARACTERS = ("quaternius__Animated_Human", "colosos__kaykit_knight")
# "Exactly", as a share of the height: float64 throughout, but the ground-truth files round
# positions to 1e-6 units (their HipsCenter is recomputed here from the rounded hip joints).
EXACT = 1e-6


@pytest.fixture(scope="module", params=CHARACTERS)
def character(request, eval_data):
    return load_cached(eval_data, request.param)


def _rel(a, b, height) -> float:
    return float(np.linalg.norm(np.asarray(a) - np.asarray(b)) / height)


def _sides(case: augment.Case, c) -> np.ndarray:
    """The placed character's own left: placed up x placed front (after a mirror this is not
    the placed old left, which now points to the character's right)."""
    f = augment.character_frame(c)
    m = case.transform[:3, :3]
    return np.cross(m @ f.up, m @ f.front)


def test_none_is_the_character_unchanged(character):
    case = augment.make_case(character, "none", 0, seed=0)
    for k, v in character.joints.items():
        assert _rel(case.joints[k], v, character.height) < EXACT
    assert np.allclose(augment.apply(case, character, character.unrigged.vertices), character.unrigged.vertices)
    assert case.height == character.height and not case.props and not case.mirrored


def test_posed_joints_are_the_posed_artist_skeleton(character):
    c = character
    case = augment.make_case(c, "pose", 3, seed=0)
    bones = augment.artist_bones(c)
    # Forward kinematics on its own: each bone head goes where its parent's transform takes it.
    for joint, rec in c.gt["canonical"].items():
        if rec is None:
            continue
        b = c.bone_names.index(rec["bone"])
        p = bones.parents[b]
        m = case.bone_matrices[p if p >= 0 else b]
        assert _rel(case.joints[joint], m[:, :3] @ c.bone_heads[b] + m[:, 3], c.height) < EXACT
    # The skin moved with its bones: a vertex held by one bone keeps its place in that bone's
    # frame, so its distance to the bone's (posed) head stays.
    posed = augment.apply(case, c, c.rigged.vertices)
    w = c.weights.tocsr()
    best = np.asarray(w.argmax(axis=1)).ravel()
    rigid = np.asarray(w.max(axis=1).todense()).ravel() > 0.999
    assert rigid.sum() > 10
    m = case.bone_matrices[best[rigid]]
    heads = c.bone_heads[best[rigid]]
    posed_heads = np.einsum("kij,kj->ki", m[:, :, :3], heads) + m[:, :, 3]
    d_rest = np.linalg.norm(c.rigged.vertices[rigid] - heads, axis=1)
    d_posed = np.linalg.norm(posed[rigid] - posed_heads, axis=1)
    assert np.allclose(d_rest, d_posed, atol=1e-9 * c.height)
    assert not np.allclose(posed, c.rigged.vertices)  # and it did move
    assert case.params  # the drawn angles are reported


def test_poses_stay_in_the_ranges(character):
    c = character
    f = augment.character_frame(c)
    for index in range(6):
        case = augment.make_case(c, "pose", index, seed=1)
        j = case.joints
        for side in ("Left", "Right"):
            arm = augment._unit(j[f"{side}ForeArm"] - j[f"{side}Arm"])
            below = np.degrees(np.arcsin(-np.dot(arm, f.up)))
            drawn = case.params[f"{side.lower()}_arm_below_deg"]
            # relative to the chest, which the spine's lean and turn move a little
            assert abs(below - drawn) <= 2 * augment.SPINE_LEAN_DEG + 1.0
            assert -augment.ARM_UP_DEG[1] - 1 <= drawn <= augment.ARM_DOWN_DEG[1]
            fore = augment._unit(j[f"{side}Hand"] - j[f"{side}ForeArm"])
            rest_arm = augment._unit(c.joints[f"{side}ForeArm"] - c.joints[f"{side}Arm"])
            rest_fore = augment._unit(c.joints[f"{side}Hand"] - c.joints[f"{side}ForeArm"])
            bend = np.degrees(np.arccos(np.clip(np.dot(arm, fore), -1, 1)))
            rest_bend = np.degrees(np.arccos(np.clip(np.dot(rest_arm, rest_fore), -1, 1)))
            assert bend <= rest_bend + augment.ELBOW_DEG[1] + 1e-6
        assert np.dot(j["LeftUpLeg"] - j["RightUpLeg"], f.left) > 0  # still standing, left on the left


def test_mirroring_swaps_left_and_right(character):
    c = character
    case = augment.make_case(c, "mirror", 0, seed=0)
    assert case.mirrored
    m = case.transform
    for k in ("Hand", "Foot", "Arm"):
        # the point that was the left hand is now the character's right hand
        assert _rel(case.joints[f"Right{k}"], m[:3, :3] @ c.joints[f"Left{k}"] + m[:3, 3], c.height) < EXACT
        assert _rel(case.joints[f"Left{k}"], m[:3, :3] @ c.joints[f"Right{k}"] + m[:3, 3], c.height) < EXACT
    assert np.linalg.det(m[:3, :3]) < 0
    # The mirrored character faces the mirrored front with its head the mirrored up; its own
    # left (up x front) is where the renamed Left joints are.
    left = _sides(case, c)
    for k in ("Hand", "Foot"):
        assert np.dot(case.joints[f"Left{k}"] - case.joints[f"Right{k}"], left) > 0


@pytest.mark.parametrize("kind", ["facing", "upaxis", "scale", "offset"])
def test_placement_carries_the_ground_truth_along(character, kind):
    c = character
    for index in range(4):
        case = augment.make_case(c, kind, index, seed=2)
        s = np.linalg.norm(case.transform[:3, 0])
        assert case.height == pytest.approx(c.height * s)
        moved = augment.apply(case, c, c.unrigged.vertices)
        for k, v in c.joints.items():
            assert _rel(case.joints[k], case.place(v), case.height) < EXACT
        # the mesh went with the joints: same distances, scaled
        i = np.argsort(np.linalg.norm(c.unrigged.vertices - c.joints["Head"], axis=1))[:5]
        d0 = np.linalg.norm(c.unrigged.vertices[i] - c.joints["Head"], axis=1) * s
        d1 = np.linalg.norm(moved[i] - case.joints["Head"], axis=1)
        assert np.allclose(d0, d1, rtol=1e-9, atol=1e-9 * case.height)
        if kind == "scale":
            assert 0.01 <= case.height <= 100.0
        if kind == "offset":
            assert np.linalg.norm(case.joints["Hips"]) >= 9 * case.height
        if kind == "upaxis":  # the character's up is the drawn axis of the glTF file
            up = augment._unit(case.joints["Head"] - case.joints["HipsCenter"])
            want = augment._gltf_to_blender(augment._axis(case.params["up_gltf"]))
            assert np.dot(up, want) > 0.9
        if kind == "facing":
            assert case.params["turn_deg"] in (90.0, 180.0, 270.0)


def test_props_sit_at_the_hand_and_behind_the_back(character):
    c = character
    f = augment.character_frame(c)
    found = set()
    for index in range(8):
        case = augment.make_case(c, "prop", index, seed=0)
        for p in case.props:
            found.add(p.name)
            hand = case.joints[f"{case.params['prop_hand']}Hand"]
            other = case.joints[f"{'Right' if case.params['prop_hand'] == 'Left' else 'Left'}Hand"]
            near = hand if p.name == "AugmentSword" else other
            assert np.min(np.linalg.norm(p.vertices - near, axis=1)) < 0.3 * c.height
        cape = augment.make_case(c, "cape", index, seed=0)
        (sheet,) = cape.props
        found.add(sheet.name)
        centre = (cape.joints["LeftArm"] + cape.joints["RightArm"]) / 2
        behind = (sheet.vertices - centre) @ -f.front
        assert np.mean(behind > 0) > 0.6  # mostly behind the shoulders' line
        floor = min(np.dot(c.unrigged.vertices, f.up))
        assert np.dot(sheet.vertices, f.up).min() >= floor - 1e-9  # never through the floor
        assert len(sheet.triangles) and sheet.triangles.max() < len(sheet.vertices)
    assert {"AugmentSword", "AugmentShield"} & found and {"AugmentCape", "AugmentCoat"} & found


def test_cases_are_seeded(character):
    a = augment.make_case(character, "mixed", 5, seed=7)
    b = augment.make_case(character, "mixed", 5, seed=7)
    c = augment.make_case(character, "mixed", 6, seed=7)
    assert a.params == b.params and np.array_equal(a.transform, b.transform)
    assert a.params != c.params


def test_plan_spreads_cases_over_characters_and_kinds():
    names = ["a", "b", "c"]
    p = augment.plan(names, list(augment.KINDS), 40, seed=0)
    assert p[:3] == [("a", "none", 0), ("b", "none", 0), ("c", "none", 0)]
    rest = p[3:]
    assert len(rest) == 40 and len(set(rest)) == 40
    first_round = rest[: len(names) * len(augment.AUGMENTED_KINDS)]
    assert {k for _, k, _ in first_round} == set(augment.AUGMENTED_KINDS)
    assert augment.plan(names, ["pose"], 0, seed=0) == [(n, "none", 0) for n in names]


def test_swaps_compare_left_with_right():
    gt = {
        "LeftHand": np.array([1.0, 0, 1]),
        "RightHand": np.array([-1.0, 0, 1]),
        "LeftFoot": np.array([0.3, 0, 0]),
        "RightFoot": np.array([-0.3, 0, 0]),
    }
    assert swaps(gt, gt) == {"arms": False, "legs": False}
    crossed = augment.swap_sides(gt)
    assert swaps(crossed, gt) == {"arms": True, "legs": True}
    arms_only = {**gt, "LeftHand": gt["RightHand"], "RightHand": gt["LeftHand"]}
    assert swaps(arms_only, gt) == {"arms": True, "legs": False}


def test_summary_targets_per_kind():
    def row(ch, kind, mean=None, refused=None, swapped=False, conf=0.9):
        r = {"case": f"{ch}/{kind}/0", "character": ch, "kind": kind}
        if refused:
            r["refused"] = refused
        else:
            r["joints"] = {"mean": mean, "swaps": {"arms": swapped, "legs": False}}
            r["confidence"] = conf
        return r

    rows = [
        row("a", "none", 2.0),
        row("b", "none", 3.0),
        row("a", "pose", 2.4),
        row("b", "pose", 3.2),  # within +0.5: pass
        row("a", "facing", 2.0, swapped=True, conf=0.3),  # a swap: fail
        row("a", "prop", refused="not_a_biped: no arms"),  # a refusal: fail
        row("b", "scale", 3.6),
    ]  # +0.6: fail
    s = summarize(rows)
    k = s["kinds"]
    assert k["pose"]["pass"] and k["pose"]["delta_worst"] == pytest.approx(0.4)
    assert not k["facing"]["pass_swaps"] and k["facing"]["swaps"] == ["a/facing/0"]
    assert not k["prop"]["pass_refusals"] and k["prop"]["refused"] == ["a/prop/0"]
    assert not k["scale"]["pass_error"] and k["scale"]["over_tolerance"] == ["b/scale/0"]
    assert (s["refused"], s["swaps"], s["over_tolerance"], s["all_pass"]) == (1, 1, 1, False)
    assert s["confidence"]["n"] == 6 and s["confidence"]["low_n"] == 1
    by_character = format_characters(rows)
    assert "refused prop; swapped facing" in by_character and "over scale" in by_character


@pytest.mark.slow
def test_a_case_written_as_glb_reads_back_where_it_was_put(eval_data, tmp_path):
    pytest.importorskip("bpy")
    from autorig.blender import scene
    from autorig.blender.augmented import write_case
    from autorig.evaluation.dataset import unrigged_path

    name = "colosos__kaykit_knight"
    c = load_cached(eval_data, name)
    case = next(cc for i in range(20) if (cc := augment.make_case(c, "mixed", i, seed=0)).props and cc.mirrored)
    out = write_case(case, c, unrigged_path(eval_data, name), tmp_path / "case.glb")
    mesh, _ = scene.load(out)
    want = np.concatenate([augment.apply(case, c, c.unrigged.vertices), *[p.vertices for p in case.props]])
    # Every vertex read back lies where the case put one and the other way round (GLB stores
    # float32; the exporter may split vertices along seams, so the counts need not agree).
    from scipy.spatial import cKDTree

    tol = 1e-5 * max(case.height, np.abs(want).max())
    assert cKDTree(want).query(mesh.vertices)[0].max() < tol
    assert cKDTree(mesh.vertices).query(want)[0].max() < tol
    assert {p.name for p in case.props} <= {part.name for part in mesh.parts}


def test_augment_command_rejects_unknown_kinds(eval_data):
    import subprocess
    import sys

    r = subprocess.run(
        [sys.executable, "-m", "autorig", "eval", "--augment", "--data", str(eval_data), "--kinds", "pose,nonsense"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 2 and "unknown kind(s): nonsense" in r.stderr


@pytest.mark.slow
def test_augment_command_rigs_and_scores_cases(eval_data, tmp_path):
    import json
    import subprocess
    import sys

    out = tmp_path / "augment.json"
    name = "colosos__kaykit_knight"
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "autorig",
            "eval",
            "--augment",
            "--data",
            str(eval_data),
            "--only",
            name,
            "--kinds",
            "facing,scale",
            "--cases",
            "2",
            "--jobs",
            "1",
            "--json",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert r.returncode == 0, r.stderr[-2000:]
    assert "facing" in r.stdout and "refusals" in r.stdout
    res = json.loads(out.read_text())
    assert [row["kind"] for row in res["cases"]] == ["none", "facing", "scale"] or sorted(
        row["kind"] for row in res["cases"]
    ) == ["facing", "none", "scale"]
    for row in res["cases"]:
        assert row.get("joints") or row.get("refused") or row.get("error")
    none = next(row for row in res["cases"] if row["kind"] == "none")
    assert none["joints"]["mean"] < 20
    assert set(res["summary"]["kinds"]) == {"none", "facing", "scale"}


def test_compare_two_runs_names_the_cases_that_changed(tmp_path):
    import json
    import subprocess
    import sys

    from autorig.evaluation import report
    from autorig.evaluation.augment_run import compare

    def run(rows):
        return {"meta": {"seed": 0, "cases_version": augment.CASES_VERSION}, "cases": rows, "summary": summarize(rows)}

    def row(case, mean=None, refused=None, swap=False):
        ch, kind, _ = case.split("/")
        r = {"case": case, "character": ch, "kind": kind}
        if refused:
            r["refused"] = refused
        else:
            r["joints"] = {"mean": mean, "swaps": {"arms": swap, "legs": swap}}
        return r

    old = run(
        [
            row("a/none/0", 2.0),
            row("a/pose/0", refused="not_a_biped: no arm"),
            row("a/cape/0", 30.0, swap=True),
            row("a/facing/0", 2.0),
        ]
    )
    new = run([row("a/none/0", 2.0), row("a/pose/0", 2.3), row("a/cape/0", 2.2), row("a/facing/0", 2.1)])
    text = compare(old, new)
    assert "a/pose/0" in text and "refused -> 2.30" in text
    assert "a/cape/0" in text and "30.00 SWAP -> 2.20" in text
    assert "a/facing/0" not in text  # moved by 0.1 %: not a change
    # the report module prints and compares stored --augment runs too
    (tmp_path / "old.json").write_text(report.to_json(old))
    (tmp_path / "new.json").write_text(report.to_json(new))
    r = subprocess.run(
        [sys.executable, "-m", "autorig.evaluation.report", str(tmp_path / "old.json"), str(tmp_path / "new.json")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0 and "cases that changed" in r.stdout, r.stderr
    assert json.loads((tmp_path / "new.json").read_text())["summary"]["kinds"]["pose"]["pass"]
