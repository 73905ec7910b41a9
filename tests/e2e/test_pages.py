"""The web pages in a real browser (Debian's Chromium via Playwright) against a running backend.

One test uploads a dev character through the home page to ``autorig serve`` with its real worker
and watches the task page reach 100 %, the preview video play and the 3D viewer render. The
others browse a backend whose fake worker finishes jobs in seconds: bad input refused with a
clear message, upload progress, signing in by the emailed link, paying for a file and for the
whole set and seeing the balance drop, buying credits (Gumroad links), API keys, restarting a
failed task, the admin page (balances, deleting and restarting tasks, workers, restarting the
service), Russian. Any JavaScript error on any page fails the test (``browse`` fixture).
Screenshots of every page at 1280x800 and 390x844 go to ``AUTORIG_SCREENSHOTS`` (default
``test-artifacts/screenshots``).
"""

from __future__ import annotations

import io
import re
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest
from pagekit import ADMIN_EMAIL, REPO, Browse, Site, copy_shot, sign_in_page, stick_figure_glb

expect = pytest.importorskip("playwright.sync_api").expect

REAL_RIG_TIMEOUT_MS = 900_000  # one full rig job on a busy 2-core machine
UPLOAD_THROTTLE_BPS = 600_000  # slow the upload so its progress is seen (and photographed)
DOCS_SHOTS = REPO / "docs" / "screenshots"
DEV_CHARACTER = "kenney__character_female_a.glb"

# Counts how far the page's upload bar moved, across the navigation to the task page.
RECORD_UPLOAD_PROGRESS = """
new MutationObserver(() => {
  const bar = document.querySelector('#upload-bar');
  if (bar && bar.dataset.progress) {
    const seen = JSON.parse(sessionStorage.getItem('upload-progress') || '[]');
    if (seen[seen.length - 1] !== bar.dataset.progress) seen.push(bar.dataset.progress);
    sessionStorage.setItem('upload-progress', JSON.stringify(seen));
  }
}).observe(document, {subtree: true, attributes: true, attributeFilter: ['data-progress']});
"""

# What a canvas or video shows: the share of drawn (non-transparent) pixels, of coloured ones
# (not the grey grid or a grey background: the model), the number of distinct colours, and
# pixels in the skeleton's joint colour (orange, drawn over the mesh).
CANVAS_STATS = """
(sel) => {
  const c = document.querySelector(sel);
  const w = c.videoWidth || c.width, h = c.videoHeight || c.height;
  const off = document.createElement('canvas');
  off.width = w; off.height = h;
  const g = off.getContext('2d');
  g.drawImage(c, 0, 0);
  const d = g.getImageData(0, 0, w, h).data;
  let n = 0, drawn = 0, coloured = 0, joints = 0;
  const colours = new Set();
  for (let i = 0; i < d.length; i += 4 * 3) {
    n++;
    if (d[i + 3] > 8) drawn++;
    const spread = Math.max(d[i], d[i + 1], d[i + 2]) - Math.min(d[i], d[i + 1], d[i + 2]);
    if (d[i + 3] > 8 && spread > 30) coloured++;
    colours.add((d[i] >> 3) << 10 | (d[i + 1] >> 3) << 5 | (d[i + 2] >> 3));
    if (d[i] > 200 && d[i + 1] > 70 && d[i + 1] < 150 && d[i + 2] < 110 && d[i + 3] > 200) joints++;
  }
  return {drawn: drawn / n, coloured: coloured / n, colours: colours.size, joints, width: w, height: h};
}
"""


def assert_viewer_renders(page: Any, min_bones: int, min_clips: int) -> dict[str, Any]:
    viewer = page.locator("#viewer")
    expect(viewer).to_have_attribute("data-state", "ready", timeout=60_000)
    assert int(viewer.get_attribute("data-bones")) >= min_bones
    assert int(viewer.get_attribute("data-clips")) >= min_clips
    page.wait_for_timeout(500)  # a few frames
    stats = page.evaluate(CANVAS_STATS, "#viewer canvas")
    assert stats["width"] > 100 and stats["drawn"] > 0.03 and stats["colours"] > 20, stats
    page.uncheck("#bones")
    page.wait_for_timeout(300)
    mesh = page.evaluate(CANVAS_STATS, "#viewer canvas")
    page.check("#bones")
    # The skeleton's joints are drawn over the mesh (orange dots), and hide with the checkbox.
    assert stats["joints"] > mesh["joints"] + 20, f"no skeleton drawn over the mesh: {stats} / without: {mesh}"
    assert mesh["coloured"] > 0.01, f"the model itself is not drawn (only the grid?): {mesh}"
    return stats


def both(browse: Browse, url: str, name: str, ready: str, cookies: list[dict] | None = None, locale: str = "en-US") -> Any:
    """Open ``url`` at desktop and phone size, wait for ``ready``, photograph both; the
    desktop page is returned."""
    pages = [browse.desktop(cookies=cookies, locale=locale), browse.phone(cookies=cookies, locale=locale)]
    for p in pages:
        p.goto(url)
        p.wait_for_selector(ready, state="visible")
        p.wait_for_load_state("networkidle")
        browse.shoot(p, name)
    pages[1].close()
    return pages[0]


# --- the real worker ----------------------------------------------------------------------


@pytest.mark.slow
def test_upload_a_character_to_the_real_worker_and_watch_it_rigged(real_site: Site, browse: Browse, eval_data: Path) -> None:
    # A small textured character: the viewer.glb carries its (resized) texture through Draco.
    model = eval_data / "unrigged" / DEV_CHARACTER
    page = browse.desktop()
    page.goto(real_site.url + "/")
    expect(page.locator("#st-workers")).to_have_text("1/1")
    page.set_input_files("#file", str(model))
    page.wait_for_url(re.compile(r".*/task/[0-9a-f]+$"))
    task_id = page.url.rsplit("/", 1)[1]

    # The bar moves as the job runs and files become ready, and reaches 100 %.
    expect(page.locator("#badge")).to_have_text(re.compile("Rigging|Waiting"))
    seen: set[str] = set()
    deadline = time.monotonic() + REAL_RIG_TIMEOUT_MS / 1000
    while page.locator("#bar").get_attribute("data-progress") != "1.0000":
        seen.add(page.locator("#bar").get_attribute("data-progress") or "")
        assert page.locator("#badge").text_content() != "Failed", page.locator("#error-box").text_content()
        assert time.monotonic() < deadline, (
            f"still {page.locator('#pct').text_content()}: {real_site.log_path.read_text()[-2000:]}"
        )
        page.wait_for_timeout(1000)
    assert len(seen - {""}) >= 3, f"the bar should move in steps: {sorted(seen)}"
    expect(page.locator("#pct")).to_have_text("100%")
    expect(page.locator("#badge")).to_have_text("Done")
    assert real_site.task(task_id)["status"] == "done"

    # The preview video plays; the viewer shows the rigged character with its skeleton and clips.
    video = page.locator("video#preview-video")
    expect(video).to_be_visible()
    page.wait_for_function(
        "() => { const v = document.querySelector('#preview-video'); return v && v.readyState >= 2 && v.videoWidth > 0; }",
        timeout=30_000,
    )
    frame = page.evaluate(CANVAS_STATS, "#preview-video")
    assert frame["colours"] > 50 and frame["coloured"] > 0.005, f"the preview video shows no model: {frame}"
    stats = assert_viewer_renders(page, min_bones=20, min_clips=5)
    clips = page.locator("#clip option").all_text_contents()
    assert "Walk" in clips and "Idle" in clips, clips
    page.select_option("#clip", "walk")
    page.wait_for_timeout(300)
    assert page.evaluate(CANVAS_STATS, "#viewer canvas")["drawn"] > 0.5 * stats["drawn"]
    # The ready files are listed with sizes and prices.
    row = page.locator(f'.file[data-name="{Path(DEV_CHARACTER).stem}.fbx"]')
    expect(row.locator(".size")).to_have_text(re.compile(r"^\d+(\.\d)? (KB|MB)$"))
    expect(row.locator(".price")).to_have_text("1 credit")
    page.select_option("#clip", "idle")
    browse.shoot(page, "task-done")
    phone = browse.phone()
    phone.goto(page.url)
    expect(phone.locator("#viewer")).to_have_attribute("data-state", "ready", timeout=60_000)
    phone.wait_for_function("() => document.querySelector('#preview-video')?.readyState >= 2", timeout=30_000)
    browse.shoot(phone, "task-done")
    copy_shot("task-done-desktop.png", DOCS_SHOTS / "task-done-desktop.png")
    copy_shot("task-done-phone.png", DOCS_SHOTS / "task-done-phone.png")


@pytest.mark.slow
def test_a_cube_is_refused_as_not_a_character_on_the_page(real_site: Site, browse: Browse, tmp_path: Path) -> None:
    cube = tmp_path / "cube.obj"
    verts = "".join(f"v {x} {y} {z}\n" for x in (-0.5, 0.5) for y in (-0.5, 0.5) for z in (0.0, 1.0))
    cube.write_text("o Cube\n" + verts + "f 1 2 4 3\nf 5 7 8 6\nf 1 5 6 2\nf 3 4 8 7\nf 1 3 7 5\nf 2 6 8 4\n")
    page = browse.desktop()
    page.goto(real_site.url + "/")
    page.set_input_files("#file", str(cube))
    page.wait_for_url(re.compile(r".*/task/[0-9a-f]+$"))
    expect(page.locator("#badge")).to_have_text("Failed", timeout=300_000)
    expect(page.locator("#error-hint")).to_contain_text("It looks like an object, not a character")
    expect(page.locator("#error-reason")).to_contain_text("biped")
    expect(page.locator("#error-box")).not_to_contain_text("Tried")  # one attempt
    browse.shoot(page, "task-not-a-character")


# --- a fake worker ------------------------------------------------------------------------


def test_home_refuses_bad_input_and_uploads_with_progress(fake_site: Site, browse: Browse) -> None:
    page = both(browse, fake_site.url + "/", "home", "#drop")
    expect(page.locator("#st-workers")).to_have_text("1/1")
    expect(page.locator("#limits")).to_have_text("GLB, glTF, VRM, FBX, OBJ, ZIP · up to 5 MB")
    expect(page.locator("#anon-note")).to_contain_text("Without an account you can rig")
    copy_shot("home-desktop.png", DOCS_SHOTS / "home-desktop.png")

    # Refused on the page: not a model's extension, too large. Nothing is uploaded.
    page.set_input_files("#file", files=[{"name": "notes.txt", "mimeType": "text/plain", "buffer": b"hello"}])
    expect(page.locator("#upload-error")).to_have_text("notes.txt is not a GLB, glTF, VRM, FBX, OBJ or ZIP file.")
    page.set_input_files(
        "#file", files=[{"name": "huge.glb", "mimeType": "model/gltf-binary", "buffer": b"glTF" + b"\0" * (6 << 20)}]
    )
    expect(page.locator("#upload-error")).to_contain_text("this server accepts up to 5 MB")
    # Refused by the server (the content is not a model): the page says why and stays.
    browse.console.expect(r"status of 400")
    page.set_input_files(
        "#file", files=[{"name": "fake.glb", "mimeType": "model/gltf-binary", "buffer": b"not a model at all\n" * 50}]
    )
    expect(page.locator("#upload-error")).to_have_text(
        "The file is not a GLB, glTF, FBX, OBJ or ZIP model (checked by its content)."
    )
    expect(page.locator("#upload-state")).to_be_hidden()
    assert page.url == fake_site.url + "/"

    # A real upload, slowed down so that the progress events are seen.
    page.add_init_script(RECORD_UPLOAD_PROGRESS)
    page.reload()
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 5, "downloadThroughput": -1, "uploadThroughput": UPLOAD_THROTTLE_BPS},
    )
    model = stick_figure_glb()
    model += b"\0" * (1_500_000 - len(model))  # 1.5 MB: a few seconds at the throttled speed
    page.fill("#email", "walker@example.com")
    page.set_input_files("#file", files=[{"name": "walker.glb", "mimeType": "model/gltf-binary", "buffer": model}])
    expect(page.locator("#upload-state")).to_be_visible()
    expect(page.locator("#upload-numbers")).to_contain_text("MB")
    browse.shoot(page, "home-uploading")
    page.wait_for_url(re.compile(r".*/task/[0-9a-f]+$"), timeout=30_000)
    cdp.send(
        "Network.emulateNetworkConditions", {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}
    )
    progress = [float(x) for x in page.evaluate("JSON.parse(sessionStorage.getItem('upload-progress') || '[]')")]
    assert len(progress) >= 3 and progress == sorted(progress) and progress[-1] == 1.0, progress

    # The task page: waiting or running, then the bar reaches 100 % and every file is listed.
    task_id = page.url.rsplit("/", 1)[1]
    expect(page.locator("#task-name")).to_have_text("walker.glb")
    # (the fake job takes 3 s: a slow machine may show it done already)
    expect(page.locator("#badge")).to_have_text(re.compile("Rigging|Done"), timeout=20_000)
    expect(page.locator("#files .file")).to_have_count(9)
    browse.shoot(page, "task-running")
    phone = browse.phone()
    phone.goto(page.url)
    expect(phone.locator("#files .file")).to_have_count(9)
    browse.shoot(phone, "task-running")
    expect(page.locator("#pct")).to_have_text("100%", timeout=30_000)
    expect(page.locator("#badge")).to_have_text("Done")
    expect(page.locator("#files .file:not(.pending)")).to_have_count(9)
    expect(page.locator("#steps .past")).to_have_count(3)
    polls: list[str] = []
    page.on("request", lambda r: polls.append(r.url) if r.url.endswith(f"/api/task/{task_id}") else None)
    page.wait_for_timeout(3 * 2000)  # three polling intervals
    assert polls == [], f"the page still polls a finished task: {polls}"
    # Anonymous: the downloads ask to sign in; the free previews download at once.
    expect(page.locator("#balance-line")).to_contain_text("Sign in to download")
    with page.expect_download() as dl:
        page.click('#previews .file[data-name="rig.json"] a')
    assert dl.value.suggested_filename == "rig.json"
    assert fake_site.task(task_id)["status"] == "done"
    page.click('#files .file[data-name="walker.glb"] a')
    page.wait_for_url(re.compile(r".*/login\?next=.*"))


def test_sign_in_then_pay_for_a_file_and_the_set(fake_site: Site, browse: Browse) -> None:
    tid = fake_site.tasks["done"]
    page = browse.desktop()
    page.goto(f"{fake_site.url}/login?next=/task/{tid}")
    browse.shoot(page, "login")
    phone = browse.phone()
    phone.goto(f"{fake_site.url}/login")
    phone.wait_for_selector("#email-form")
    browse.shoot(phone, "login")
    sign_in_page(fake_site, page, "buyer@example.com", f"/task/{tid}")

    expect(page.locator("#balance-pill")).to_have_text("30 credits")
    expect(page.locator("#balance-line")).to_have_attribute("data-balance", "30")
    assert_viewer_renders(page, min_bones=17, min_clips=2)
    expect(page.locator("#clip")).to_have_value("idle")
    expect(page.locator("#viewer-info")).to_have_text("Bones: 17 · clips: 2")
    # What to check in the result, from its rig.json.
    expect(page.locator("#warnings-box")).to_contain_text(
        "Check the result: the facing (which way the character looks) was unclear."
    )

    # One file: 1 credit, charged once.
    row = page.locator('#files .file[data-name="stick_figure.fbx"]')
    expect(row.locator(".price")).to_have_text("1 credit")
    with page.expect_download() as dl:
        row.locator("a").click()
    assert dl.value.suggested_filename == "stick_figure.fbx"
    assert Path(dl.value.path()).read_bytes().startswith(b"stick_figure.fbx of job")
    expect(page.locator("#balance-line")).to_have_attribute("data-balance", "29")
    expect(page.locator("#balance-pill")).to_have_text("29 credits")
    expect(row.locator(".price")).to_have_text("✓ paid")
    with page.expect_download():
        row.locator("a").click()  # paid already: free
    page.wait_for_timeout(1500)
    expect(page.locator("#balance-line")).to_have_attribute("data-balance", "29")

    # The whole set: 3 credits, a ZIP of the nine files.
    expect(page.locator("#download-all")).to_have_text("Download all · 3 credits")
    with page.expect_download() as dl:
        page.click("#download-all")
    with zipfile.ZipFile(io.BytesIO(Path(dl.value.path()).read_bytes())) as z:
        assert len(z.namelist()) == 9 and "stick_figure.usdz" in z.namelist()
    expect(page.locator("#balance-line")).to_have_attribute("data-balance", "26")
    expect(page.locator("#balance-pill")).to_have_text("26 credits")
    expect(page.locator("#download-all")).to_have_text("Download all")
    me = fake_site.client(cookies={c["name"]: c["value"] for c in page.context.cookies()}).get("/api/credits").json()
    assert me["balance_credits"] == 26 and [e["reason"] for e in me["ledger"][:2]] == ["download_all", "download"]
    browse.shoot(page, "task-paid")
    phone = browse.phone(cookies=page.context.cookies())
    phone.goto(page.url)
    expect(phone.locator("#viewer")).to_have_attribute("data-state", "ready")
    browse.shoot(phone, "task-paid")


def test_zero_balance_leads_to_buying_credits_and_api_keys(fake_site: Site, browse: Browse) -> None:
    admin = fake_site.sign_in_client(ADMIN_EMAIL)
    poor = fake_site.sign_in_client("poor@example.com")
    uid = poor.get("/api/me").json()["id"]
    r = admin.post(f"/api/admin/users/{uid}/credits", json={"amount": -30, "note": "test: spent"})
    assert r.status_code == 200 and r.json()["balance_credits"] == 0, r.text
    cookies = [{"name": k, "value": v, "url": fake_site.url} for k, v in poor.cookies.items()]

    page = browse.desktop(cookies=cookies)
    page.goto(f"{fake_site.url}/task/{fake_site.tasks['done']}")
    expect(page.locator("#balance-pill")).to_have_text("0 credits")
    expect(page.locator("#all-box")).to_contain_text("You have 0 credits")
    page.click("#buy-more")
    page.wait_for_url(f"{fake_site.url}/buy-credits")

    # Packs with Gumroad links that carry the person's email; the ledger explains the balance.
    links = page.locator(".pack a.btn")
    expect(links).to_have_count(2)
    assert links.nth(0).get_attribute("href") == "https://autorig.gumroad.com/l/credits100?wanted=true&userid=poor%40example.com"
    expect(page.locator("#balance")).to_have_text("0")
    expect(page.locator("#ledger tbody tr")).to_have_count(2)
    expect(page.locator("#ledger")).to_contain_text("Changed by an admin — test: spent")

    # An API key: shown once, works, then revoked.
    page.fill("#key-name", "build server")
    page.click("#key-form button")
    key = page.locator("#new-key").text_content()
    assert key and len(key) > 20
    expect(page.locator("#keys tr")).to_have_count(1)
    assert fake_site.http.get("/api/me", headers={"Authorization": f"Bearer {key}"}).status_code == 200
    both(browse, f"{fake_site.url}/buy-credits", "buy-credits", "#ledger tbody tr", cookies=page.context.cookies())
    page.on("dialog", lambda d: d.accept())
    page.click("#keys button.danger")
    expect(page.locator("#keys")).to_contain_text("No keys yet.")
    browse.console.expect(r"status of 401")  # the revoked key, asked below from this test, not the page
    assert fake_site.http.get("/api/me", headers={"Authorization": f"Bearer {key}"}).status_code == 401
    page.reload()
    expect(page.locator("#new-key")).to_have_count(0)  # the key itself is never shown again

    both(browse, f"{fake_site.url}/payment/success", "payment-success", "#balance-box", cookies=page.context.cookies())
    page.goto(f"{fake_site.url}/payment/success")
    expect(page.locator("#balance-box")).to_have_text("Your balance: 0 credits. It updates here by itself.")


def test_restart_a_failed_task(fake_site: Site, browse: Browse) -> None:
    tid = fake_site.tasks["failed"]
    # Another browser may look, not restart: only the task's own (anonymous) browser may.
    stranger = browse.desktop()
    stranger.goto(f"{fake_site.url}/task/{tid}")
    expect(stranger.locator("#error-box")).to_contain_text("Rigging failed")
    expect(stranger.locator("#restart")).to_have_count(0)
    stranger.close()

    owner = [{"name": c.name, "value": c.value, "url": fake_site.url} for c in fake_site.http.cookies.jar]
    page = both(browse, f"{fake_site.url}/task?id={tid}", "task-failed", "#error-box", cookies=owner)
    expect(page.locator("#badge")).to_have_text("Failed")
    expect(page.locator("#error-box")).to_contain_text("Rigging failed")
    expect(page.locator("#error-box")).to_contain_text("killed (signal 9)")
    # An infrastructure failure (the engine was killed): not the model's fault.
    expect(page.locator("#error-hint")).to_have_text(
        "Something went wrong on our side, not with your model: restarting usually helps."
    )
    expect(page.locator("#viewer-wait")).to_have_text("No 3D preview: rigging failed.")
    page.click("#restart")
    expect(page.locator("#badge")).to_have_text(re.compile("Waiting|Rigging"))
    expect(page.locator("#pct")).to_have_text("100%", timeout=30_000)
    expect(page.locator("#badge")).to_have_text("Done")
    t = fake_site.task(tid)
    assert t["status"] == "done" and t["restarts"] == 1

    # A task that does not exist (a deleted one, a mistyped link) says so.
    browse.console.expect(r"status of 404")
    page.goto(f"{fake_site.url}/task/0123456789abcdef0123456789abcdef")
    expect(page.locator("#load-error")).to_have_text(
        "There is no task at this address. It may have been deleted; check the link."
    )
    expect(page.locator("#task")).to_be_hidden()


def test_my_tasks_in_russian_and_the_language_switch(fake_site: Site, browse: Browse) -> None:
    maker = fake_site.sign_in_client("maker@example.com")
    mine = fake_site.create(stick_figure_glb(), "robot_ru.glb", client=maker)
    fake_site.until(mine, {"done"})
    cookies = [{"name": k, "value": v, "url": fake_site.url} for k, v in maker.cookies.items()]

    page = both(browse, f"{fake_site.url}/tasks", "tasks", ".task-row", cookies=cookies, locale="ru-RU")
    expect(page.locator("h1")).to_have_text("Мои задачи")
    expect(page.locator(".task-row")).to_have_count(1)
    expect(page.locator(".task-row .badge")).to_have_text("Готово")
    expect(page.locator("#balance-pill")).to_have_text("30 кредитов")
    page.click(".lang button[lang=en]")
    expect(page.locator("h1")).to_have_text("My tasks")
    expect(page.locator(".task-row .badge")).to_have_text("Done")
    expect(page.locator("#balance-pill")).to_have_text("30 credits")
    page.click(".task-row")
    page.wait_for_url(f"{fake_site.url}/task/{mine}")
    expect(page.locator("#task-name")).to_have_text("robot_ru.glb")  # English is remembered

    ru = browse.desktop(locale="ru-RU")
    ru.goto(fake_site.url + "/")
    expect(ru.locator("h1")).to_contain_text("Риггинг 3D-персонажа")
    expect(ru.locator("#st-wait")).to_have_text("Модель, загруженная сейчас, начнёт обрабатываться меньше чем через минуту.")
    plural = ru.evaluate("""async () => {
        const app = await import('/static/js/app.js');
        return [1, 2, 5, 21].map((n) => app.fmtCredits(n)).concat([app.fmtWait(300), app.fmtBytes(1572864)]);
    }""")
    assert plural == ["1 кредит", "2 кредита", "5 кредитов", "21 кредит", "через 5 минут", "1,5 МБ"], plural
    same = ru.evaluate("""async () => {
        const {DICTS} = await import('/static/js/app.js');
        const a = Object.keys(DICTS.en).sort(), b = Object.keys(DICTS.ru).sort();
        return JSON.stringify(a) === JSON.stringify(b);
    }""")
    assert same, "the English and Russian texts must have the same keys"
    browse.shoot(ru, "home-ru")


def test_queue_position_and_the_fbx_step(fake_site: Site, browse: Browse) -> None:
    # Two slots, jobs of 3 s: the last of seven tasks created at once waits for three rounds.
    ids = [fake_site.create(stick_figure_glb(), f"crowd_{i}.glb") for i in range(7)]
    page = browse.desktop()
    page.goto(f"{fake_site.url}/task/{ids[-1]}")
    queue = page.locator("#queue-box")
    expect(queue).to_be_visible()
    expect(queue).to_contain_text(re.compile(r"Position in queue: [1-7]|Next in line"))
    expect(queue).to_contain_text(re.compile(r"Starts in (less than a minute|\d+ minutes?)\."))
    expect(page.locator("#badge")).to_have_text("Waiting")
    browse.shoot(page, "task-queued")
    expect(page.locator("#pct")).to_have_text("100%", timeout=60_000)
    expect(queue).to_be_hidden()

    # FBX input: its conversion to GLB is a step of its own, with a link to the .glb.
    fbx = b"Kaydara FBX Binary  \x00\x1a\x00" + (7400).to_bytes(4, "little") + b"\x00" * 60  # FBX 7.4
    tid = fake_site.create(fbx, "dancer.fbx")
    page.goto(f"{fake_site.url}/task/{tid}")
    box = page.locator("#fbx-box")
    expect(box).to_contain_text("FBX → GLB conversion")
    expect(page.locator("#steps span").first).to_contain_text("FBX → GLB")
    expect(box.locator("a")).to_have_text("Converted .glb", timeout=30_000)
    assert box.locator("a").get_attribute("href").endswith(".glb")
    expect(box.locator(".badge")).to_have_text("done")
    expect(page.locator("#pct")).to_have_text("100%", timeout=30_000)

    # A link instead of a file (here: an upload the backend already stores).
    link = fake_site.task(fake_site.tasks["done"])["input_url"]
    page.goto(fake_site.url + "/")
    page.fill("#url", "ftp://example.com/x.glb")
    page.click("#url-form button")
    expect(page.locator("#upload-error")).to_have_text("Paste a link that starts with http:// or https://")
    page.fill("#url", link)
    page.click("#url-form button")
    page.wait_for_url(re.compile(r".*/task/[0-9a-f]+$"))
    expect(page.locator("#task-name")).to_have_text(link.rsplit("/", 1)[1])
    expect(page.locator("#pct")).to_have_text("100%", timeout=30_000)


def test_admin_balances_tasks_workers_and_service_restart(fake_site: Site, browse: Browse) -> None:
    victim = fake_site.create(stick_figure_glb(), "to_delete.glb", client=fake_site.sign_in_client("victim@example.com"))
    fake_site.until(victim, {"done"})

    page = browse.desktop()
    page.on("dialog", lambda d: d.accept())
    sign_in_page(fake_site, page, ADMIN_EMAIL, "/admin")
    expect(page.locator(".nav a.active")).to_have_text("Admin")
    expect(page.locator('#users tr[data-user="buyer@example.com"]')).to_have_count(1)
    page.fill("#q", "victim")
    page.click("#user-search button")
    expect(page.locator("#users tbody tr")).to_have_count(1)
    page.click('#users tr[data-user="victim@example.com"] button')
    expect(page.locator("#user-card h2")).to_have_text("victim@example.com")
    page.fill("#adjust-amount", "5")
    page.fill("#adjust-note", "goodwill")
    page.click("#adjust-form button")
    expect(page.locator("#user-balance")).to_have_text("35")
    expect(page.locator("#user-card")).to_contain_text("Changed by an admin")
    row = page.locator(f'#user-card tr[data-task="{victim}"]')
    expect(row).to_have_count(1)
    browse.shoot(page, "admin")
    phone = browse.phone(cookies=page.context.cookies())
    phone.goto(f"{fake_site.url}/admin")
    expect(phone.locator("#users tbody tr").first).to_be_visible()
    browse.shoot(phone, "admin")

    row.locator('button[data-action="restart"]').click()
    expect(page.locator(f'#user-card tr[data-task="{victim}"] .badge')).to_have_text(re.compile("Waiting|Rigging"))
    fake_site.until(victim, {"done"})
    page.locator(f'#user-card tr[data-task="{victim}"] button[data-action="delete"]').click()
    expect(page.locator(f'#user-card tr[data-task="{victim}"]')).to_have_count(0)
    assert fake_site.http.get(f"/api/task/{victim}").status_code == 404

    # Any task by its id; the workers with their health; restarting the service.
    page.click('[data-tab="tasks"]')
    page.fill("#task-id", fake_site.tasks["done"])
    page.click("#task-form button")
    expect(page.locator("#task-found")).to_contain_text("stick_figure.glb")
    page.click('[data-tab="workers"]')
    expect(page.locator("#workers tbody tr")).to_have_count(1)
    expect(page.locator("#workers .badge")).to_have_text("online")
    browse.shoot(page, "admin-workers")
    phone.click('[data-tab="workers"]')
    expect(phone.locator("#workers .badge")).to_have_text("online")
    browse.shoot(phone, "admin-workers")
    page.click('[data-tab="payments"]')
    expect(page.locator("#payments")).to_contain_text("No Gumroad pings yet.")
    page.click('[data-tab="workers"]')
    pid = page.locator("#service-pid").text_content()
    # While the backend restarts, the page's polls are refused for a moment.
    browse.console.expect(r"ERR_CONNECTION_REFUSED|ERR_EMPTY_RESPONSE|ERR_CONNECTION_RESET|status of 50\d")
    page.click("#service-restart")
    expect(page.locator("#service-note")).to_have_text("The service is back.", timeout=60_000)
    assert page.locator("#service-pid").text_content() == pid  # re-executed in place
    assert fake_site.http.get("/api/health").json()["status"] == "ok"
