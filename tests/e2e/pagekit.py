"""Real parts for the page tests: Debian's Chromium driven by Playwright (never a browser
Playwright downloads), a console watcher that fails a test on any JavaScript error, screenshots
at desktop and phone sizes, a running site to browse and prepare data on (signing in through
the emailed link that reached a real SMTP server), and a small rigged, animated GLB made here
so the 3D viewer is tested without the evaluation data."""

from __future__ import annotations

import email
import json
import os
import re
import shutil
import socket
import struct
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np

REPO = Path(__file__).resolve().parents[2]

CHROMIUM = os.environ.get("AUTORIG_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # WebGL without a GPU: ANGLE on SwiftShader, Chromium's CPU renderer.
    "--use-angle=swiftshader",
    "--enable-unsafe-swiftshader",
]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
SHOTS = Path(os.environ.get("AUTORIG_SCREENSHOTS") or REPO / "test-artifacts" / "screenshots")
ADMIN_EMAIL = "admin@example.com"
LINK = re.compile(r"(https?://\S+/auth/email/\S+)")
# A placeholder the page forgot to fill, or a translation key shown as is (e.g. "task.title").
UNFILLED = re.compile(
    r"\{[a-z_]+\}|\b(?:nav|home|task|tasks|login|credits|keys|payment|admin|stage|step|file|price|status|reason|clip|err|fbx|wait|units)\.[a-z0-9_]+\b"
)
GUMROAD_PRODUCTS = [
    {"product": "credits100", "credits": 100, "label": "100 credits", "url": "https://autorig.gumroad.com/l/credits100"},
    {"product": "credits500", "credits": 500, "label": "500 credits", "url": "https://autorig.gumroad.com/l/credits500"},
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- the browser --------------------------------------------------------------------------


@dataclass
class Console:
    """JavaScript errors of every page a test opened: console.error calls and uncaught
    exceptions. ``allow`` holds patterns a test expects (e.g. a refused upload's 400)."""

    errors: list[str] = field(default_factory=list)
    allow: list[re.Pattern[str]] = field(default_factory=list)

    def watch(self, page: Any) -> None:
        def on_console(msg: Any) -> None:
            if msg.type == "error":
                self.errors.append(f"{page.url}: console.error: {msg.text}")

        page.on("console", on_console)
        page.on("pageerror", lambda exc: self.errors.append(f"{page.url}: uncaught: {exc}"))

    def expect(self, pattern: str) -> None:
        self.allow.append(re.compile(pattern))

    def unexpected(self) -> list[str]:
        return [e for e in self.errors if not any(p.search(e) for p in self.allow)]


class Browse:
    """Browser contexts for one test: ``desktop()`` and ``phone()`` pages (phone pages may take
    the desktop's cookies, i.e. its sign-in), screenshots, and the console check."""

    def __init__(self, browser: Any, console: Console) -> None:
        self.browser = browser
        self.console = console
        self.contexts: list[Any] = []

    def page(self, viewport: dict[str, int], *, locale: str = "en-US", cookies: list[dict] | None = None, **kw: Any) -> Any:
        ctx = self.browser.new_context(viewport=viewport, locale=locale, accept_downloads=True, **kw)
        ctx.set_default_timeout(20_000)
        if cookies:
            ctx.add_cookies(cookies)
        self.contexts.append(ctx)
        page = ctx.new_page()
        self.console.watch(page)
        return page

    def desktop(self, **kw: Any) -> Any:
        return self.page(DESKTOP, **kw)

    def phone(self, **kw: Any) -> Any:
        return self.page(PHONE, is_mobile=True, has_touch=True, device_scale_factor=2, **kw)

    def shoot(self, page: Any, name: str) -> Path:
        """A full-page screenshot named after the page and the viewport, after checking that
        every text on it was filled in (no ``{placeholder}`` or missing translation key left)."""
        text = page.inner_text("body")
        assert not UNFILLED.search(text), f"{name}: text left unfilled: {UNFILLED.findall(text)}"
        kind = "phone" if page.viewport_size["width"] < 600 else "desktop"
        # From the top (the header is sticky), without a passing notice over the page.
        page.evaluate("() => { window.scrollTo(0, 0); document.querySelector('.toast')?.setAttribute('hidden', ''); }")
        SHOTS.mkdir(parents=True, exist_ok=True)
        path = SHOTS / f"{name}-{kind}.png"
        page.screenshot(path=str(path), full_page=True, animations="disabled")
        return path

    def close(self) -> None:
        for ctx in self.contexts:
            ctx.close()


# --- a site ---------------------------------------------------------------------------------


class Inbox:
    """aiosmtpd handler keeping what arrives."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        self.messages.append((list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


class Site:
    """A running backend (its own process) with helpers to prepare what the pages show."""

    def __init__(self, url: str, data_dir: Path, inbox: Inbox | None) -> None:
        self.url = url
        self.data_dir = data_dir
        self.inbox = inbox
        self.http = httpx.Client(base_url=url, timeout=30)
        self.tasks: dict[str, str] = {}  # role -> task id, prepared by the fixture
        self.clients: list[httpx.Client] = [self.http]

    def client(self, **kw: Any) -> httpx.Client:
        """An HTTP client of its own (its own cookies), closed with the site."""
        c = httpx.Client(base_url=self.url, timeout=30, **kw)
        self.clients.append(c)
        return c

    def close(self) -> None:
        for c in self.clients:
            c.close()

    def task(self, task_id: str) -> dict[str, Any]:
        r = self.http.get(f"/api/task/{task_id}")
        r.raise_for_status()
        return r.json()

    def until(self, task_id: str, statuses: set[str], timeout: float = 60.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            t = self.task(task_id)
            if t["status"] in statuses:
                return t
            assert time.monotonic() < deadline, f"task {task_id} stayed {t['status']}: {t.get('last_error')}"
            time.sleep(0.3)

    def create(self, content: bytes, filename: str, client: httpx.Client | None = None, **fields: str) -> str:
        r = (client or self.http).post("/api/task/create", files={"file": (filename, content)}, data=fields)
        assert r.status_code == 201, r.text
        return r.json()["task_id"]

    def put_output(self, task_id: str, name: str, content: bytes) -> None:
        """Replace a result file in the backend's local storage (what a download serves)."""
        (self.data_dir / "storage" / "tasks" / task_id / "out" / name).write_bytes(content)

    def sign_in_link(self, address: str, count: int, timeout: float = 20.0) -> str:
        """The sign-in link of the ``count``-th email to ``address`` that reached the SMTP server."""
        assert self.inbox is not None
        deadline = time.monotonic() + timeout
        while True:
            mine = [raw for rcpts, raw in self.inbox.messages if address in rcpts]
            if len(mine) >= count:
                msg = email.message_from_bytes(mine[count - 1])
                found = LINK.search(msg.get_payload(decode=True).decode())
                assert found, msg.as_string()
                return found.group(1)
            assert time.monotonic() < deadline, f"no sign-in email #{count} to {address}"
            time.sleep(0.1)

    def mails_to(self, address: str) -> int:
        return sum(1 for rcpts, _ in (self.inbox.messages if self.inbox else []) if address in rcpts)

    def sign_in_client(self, address: str) -> httpx.Client:
        """An HTTP client signed in as ``address`` through the emailed link (for preparing data)."""
        client = self.client()
        n = self.mails_to(address) + 1
        r = client.post("/api/auth/email", json={"email": address, "next": "/"})
        assert r.status_code == 202, r.text
        r = client.get(self.sign_in_link(address, n))
        assert r.status_code == 303, r.text
        return client


def sign_in_page(site: Site, page: Any, address: str, next_path: str = "/tasks") -> None:
    """Sign in through the pages: the form, the email, the link."""
    n = site.mails_to(address) + 1
    page.goto(f"{site.url}/login?next={next_path}")
    page.fill("#email", address)
    page.click("#email-form button[type=submit]")
    page.wait_for_selector("#sent:not([hidden])")
    page.goto(site.sign_in_link(address, n))
    page.wait_for_url(f"{site.url}{next_path}")


def copy_shot(name: str, dest: Path) -> None:
    """With ``AUTORIG_UPDATE_DOCS_SHOTS=1``, copy a screenshot of this run to ``dest`` (the ones
    the README shows, under docs/screenshots); otherwise tests never write into the checkout."""
    src = SHOTS / name
    if os.environ.get("AUTORIG_UPDATE_DOCS_SHOTS") == "1" and src.exists():
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dest)


# --- a small rigged, animated model -------------------------------------------------------

# (name, parent, head position in metres, +Y up, the figure facing +Z; Left = the figure's left, +X)
STICK_BONES: list[tuple[str, str | None, tuple[float, float, float]]] = [
    ("Hips", None, (0.0, 0.95, 0.0)),
    ("Spine", "Hips", (0.0, 1.1, 0.0)),
    ("Neck", "Spine", (0.0, 1.45, 0.0)),
    ("Head", "Neck", (0.0, 1.55, 0.0)),
    ("HeadTop_End", "Head", (0.0, 1.8, 0.0)),
    ("LeftArm", "Spine", (0.18, 1.4, 0.0)),
    ("LeftForeArm", "LeftArm", (0.45, 1.4, 0.0)),
    ("LeftHand", "LeftForeArm", (0.7, 1.4, 0.0)),
    ("RightArm", "Spine", (-0.18, 1.4, 0.0)),
    ("RightForeArm", "RightArm", (-0.45, 1.4, 0.0)),
    ("RightHand", "RightForeArm", (-0.7, 1.4, 0.0)),
    ("LeftUpLeg", "Hips", (0.1, 0.92, 0.0)),
    ("LeftLeg", "LeftUpLeg", (0.1, 0.5, 0.0)),
    ("LeftFoot", "LeftLeg", (0.1, 0.08, 0.0)),
    ("RightUpLeg", "Hips", (-0.1, 0.92, 0.0)),
    ("RightLeg", "RightUpLeg", (-0.1, 0.5, 0.0)),
    ("RightFoot", "RightLeg", (-0.1, 0.08, 0.0)),
]
STICK_TIPS = {
    "LeftHand": (0.82, 1.4, 0.0),
    "RightHand": (-0.82, 1.4, 0.0),
    "LeftFoot": (0.1, 0.02, 0.14),
    "RightFoot": (-0.1, 0.02, 0.14),
}
STICK_RADIUS = {"Head": 0.11, "Spine": 0.13, "Hips": 0.12}
LIMB_RADIUS = 0.045


def _box(a: np.ndarray, b: np.ndarray, r: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A box of half-width ``r`` around the segment a->b: positions (24, 3), normals (24, 3),
    triangles (12, 3), flat shaded (4 vertices per face)."""
    axis = b - a
    length = float(np.linalg.norm(axis))
    u = axis / length
    helper = np.array([0.0, 0.0, 1.0]) if abs(u[2]) < 0.9 else np.array([1.0, 0.0, 0.0])
    v = np.cross(u, helper)
    v /= np.linalg.norm(v)
    w = np.cross(u, v)
    corners = np.array([a + s * r * v + q * r * w + e * axis for e in (0, 1) for s in (-1, 1) for q in (-1, 1)])
    faces = [((0, 1, 3, 2), -u), ((4, 6, 7, 5), u), ((0, 4, 5, 1), -v), ((2, 3, 7, 6), v), ((0, 2, 6, 4), -w), ((1, 5, 7, 3), w)]
    pos, nor, tri = [], [], []
    for quad, n in faces:
        base = len(pos)
        pos += [corners[i] for i in quad]
        nor += [n] * 4
        tri += [(base, base + 1, base + 2), (base, base + 2, base + 3)]
    return np.array(pos), np.array(nor), np.array(tri)


def _quat_z(deg: float) -> list[float]:
    h = np.radians(deg) / 2
    return [0.0, 0.0, float(np.sin(h)), float(np.cos(h))]


def _quat_x(deg: float) -> list[float]:
    h = np.radians(deg) / 2
    return [float(np.sin(h)), 0.0, 0.0, float(np.cos(h))]


def stick_figure_glb() -> bytes:
    """A valid skinned, animated GLB (17 Mixamo-named bones, clips 'idle' and 'wave'): what the
    3D viewer shows for tasks finished by the fake worker, whose own files are placeholders."""
    names = [b[0] for b in STICK_BONES]
    heads = {n: np.array(p) for n, _, p in STICK_BONES}
    children = {n: [c for c, p, _ in STICK_BONES if p == n] for n in names}
    pos_all, nor_all, tri_all, joints_all = [], [], [], []
    for i, (name, _parent, _) in enumerate(STICK_BONES):
        ends = [heads[c] for c in children[name] if not c.endswith("_End")] or [np.array(STICK_TIPS.get(name, heads[name]))]
        if name == "Hips" or name == "Spine":
            ends = [heads["Spine"] if name == "Hips" else heads["Neck"]]
        if name == "Head":
            ends = [heads["HeadTop_End"]]
        for end in ends:
            if np.allclose(end, heads[name]):
                continue
            p, n, t = _box(heads[name], end, STICK_RADIUS.get(name, LIMB_RADIUS))
            tri_all.append(t + sum(len(x) for x in pos_all))
            pos_all.append(p)
            nor_all.append(n)
            joints_all.append(np.full(len(p), i))
    pos = np.concatenate(pos_all).astype(np.float32)
    nor = np.concatenate(nor_all).astype(np.float32)
    tri = np.concatenate(tri_all).astype(np.uint16)
    joints = np.zeros((len(pos), 4), np.uint16)
    joints[:, 0] = np.concatenate(joints_all)
    weights = np.zeros((len(pos), 4), np.float32)
    weights[:, 0] = 1.0
    ibm = np.zeros((len(names), 16), np.float32)
    for i, n in enumerate(names):
        m = np.eye(4, dtype=np.float32)
        m[:3, 3] = -heads[n]
        ibm[i] = m.T.reshape(-1)  # glTF matrices are column-major

    times = np.array([0.0, 0.6, 1.2, 1.8, 2.4], np.float32)
    wave = np.array([_quat_z(0), _quat_z(70), _quat_z(45), _quat_z(70), _quat_z(0)], np.float32)
    wave_fore = np.array([_quat_z(0), _quat_z(40), _quat_z(10), _quat_z(40), _quat_z(0)], np.float32)
    idle = np.array([_quat_x(0), _quat_x(4), _quat_x(0), _quat_x(-3), _quat_x(0)], np.float32)
    idle_arm = np.array([_quat_z(0), _quat_z(-6), _quat_z(0), _quat_z(-6), _quat_z(0)], np.float32)

    blobs: list[bytes] = []
    views: list[dict[str, Any]] = []
    accessors: list[dict[str, Any]] = []

    def add(array: np.ndarray, kind: str, ctype: int, target: int | None = None, minmax: bool = False) -> int:
        offset = sum(len(b) for b in blobs)
        data = np.ascontiguousarray(array).tobytes()
        blobs.append(data + b"\x00" * (-len(data) % 4))
        view: dict[str, Any] = {"buffer": 0, "byteOffset": offset, "byteLength": len(data)}
        if target:
            view["target"] = target
        views.append(view)
        acc: dict[str, Any] = {"bufferView": len(views) - 1, "componentType": ctype, "count": int(len(array)), "type": kind}
        if minmax:
            acc["min"] = np.asarray(array).min(axis=0).astype(float).reshape(-1).tolist()
            acc["max"] = np.asarray(array).max(axis=0).astype(float).reshape(-1).tolist()
        accessors.append(acc)
        return len(accessors) - 1

    FLOAT, USHORT, ARRAY, ELEMENTS = 5126, 5123, 34962, 34963
    a_pos = add(pos, "VEC3", FLOAT, ARRAY, minmax=True)
    a_nor = add(nor, "VEC3", FLOAT, ARRAY)
    a_jnt = add(joints, "VEC4", USHORT, ARRAY)
    a_wgt = add(weights, "VEC4", FLOAT, ARRAY)
    a_idx = add(tri.reshape(-1), "SCALAR", USHORT, ELEMENTS)
    a_ibm = add(ibm, "MAT4", FLOAT)
    a_time = add(times, "SCALAR", FLOAT, minmax=True)
    rot = {
        key: add(q, "VEC4", FLOAT)
        for key, q in (("wave", wave), ("wave_fore", wave_fore), ("idle", idle), ("idle_arm", idle_arm))
    }

    nodes: list[dict[str, Any]] = []
    for name, parent, _ in STICK_BONES:
        local = heads[name] - (heads[parent] if parent else 0)
        nodes.append({"name": name, "translation": [float(x) for x in local]})
    for i, (name, _, _) in enumerate(STICK_BONES):
        kids = [names.index(c) for c in children[name]]
        if kids:
            nodes[i]["children"] = kids
    mesh_node = len(nodes)
    nodes.append({"name": "StickFigure", "mesh": 0, "skin": 0})

    def clip(name: str, channels: list[tuple[str, str]]) -> dict[str, Any]:
        samplers = [{"input": a_time, "output": rot[key], "interpolation": "LINEAR"} for _, key in channels]
        chans = [
            {"sampler": i, "target": {"node": names.index(bone), "path": "rotation"}} for i, (bone, _) in enumerate(channels)
        ]
        return {"name": name, "samplers": samplers, "channels": chans}

    gltf = {
        "asset": {"version": "2.0", "generator": "autorig tests (stick figure)"},
        "scene": 0,
        "scenes": [{"nodes": [0, mesh_node]}],
        "nodes": nodes,
        "meshes": [
            {
                "name": "StickFigure",
                "primitives": [
                    {
                        "attributes": {"POSITION": a_pos, "NORMAL": a_nor, "JOINTS_0": a_jnt, "WEIGHTS_0": a_wgt},
                        "indices": a_idx,
                        "material": 0,
                    }
                ],
            }
        ],
        "materials": [
            {
                "name": "Body",
                "pbrMetallicRoughness": {
                    "baseColorFactor": [0.62, 0.66, 0.95, 1.0],
                    "metallicFactor": 0.0,
                    "roughnessFactor": 0.6,
                },
            }
        ],
        "skins": [{"joints": list(range(len(names))), "inverseBindMatrices": a_ibm, "skeleton": 0}],
        "animations": [
            clip("idle", [("Spine", "idle"), ("LeftArm", "idle_arm"), ("RightArm", "idle_arm")]),
            clip("wave", [("LeftArm", "wave"), ("LeftForeArm", "wave_fore")]),
        ],
        "buffers": [{"byteLength": sum(len(b) for b in blobs)}],
        "bufferViews": views,
        "accessors": accessors,
    }
    js = json.dumps(gltf, separators=(",", ":")).encode()
    js += b" " * (-len(js) % 4)
    binary = b"".join(blobs)
    total = 12 + 8 + len(js) + 8 + len(binary)
    return (
        struct.pack("<4sII", b"glTF", 2, total)
        + struct.pack("<I4s", len(js), b"JSON")
        + js
        + struct.pack("<I4s", len(binary), b"BIN\x00")
        + binary
    )
