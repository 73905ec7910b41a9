"""The library of one character's clips and its report (penetration, arm fixes)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from autorig.rigging.clips.kinematics import ClipSkeleton
from autorig.rigging.clips.solve import Clip
from autorig.rigging.tolerances import FPS


@dataclass
class Library:
    """The clips of one character and how the contact pass went.

    abduct: side -> the neutral pose's arm angle from vertical (degrees).
    """

    skeleton: ClipSkeleton
    clips: list[Clip]
    abduct: dict[str, float]

    def report(self) -> dict[str, Any]:
        """Per clip: frames, seconds, loop, hand penetration (max and mean over frames, % of
        height), and the extra arm abduction the contact pass added."""
        h = self.skeleton.height
        out: dict[str, Any] = {"fps": FPS, "neutral_arm_deg": {k: round(v, 1) for k, v in self.abduct.items()}, "clips": {}}
        for c in self.clips:
            depth = np.max(np.stack(list(c.penetration.values())), axis=0) if c.penetration else np.zeros(c.frames)
            out["clips"][c.name] = {
                "frames": c.frames,
                "seconds": round(c.seconds, 3),
                "loop": c.loop,
                "hand_penetration_max_pct": round(float(depth.max() / h * 100.0), 3),
                "hand_penetration_mean_pct": round(float(depth.mean() / h * 100.0), 4),
                "arm_fix": {
                    k: "; ".join(f"{kind} {deg:g} deg on {share * 100:.0f} % of frames" for kind, deg, share in turns)
                    for k, turns in c.arm_fix.items()
                },
            }
        return out
