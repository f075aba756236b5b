"""Opens Rusk's dashboard in headless Chromium, submits the job in SPEC once the page is up,
and checks what a person would look at while it runs: the job's progress bar advancing, the
task stream drawing spans, the workers panel showing the worker, only the key's tenant's
jobs; then the finished job's plan, its result preview and its report opened from disk.
Saves screenshots to OUT; prints the job's id on the last line.

    dashboard_browser.py BASE KEY SPEC OTHER_JOB OUT     (KEY "-" when the server has no keys)
"""

import json
import sys
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

base, key, spec, other, out = sys.argv[1:6]
out = Path(out)
out.mkdir(parents=True, exist_ok=True)
CHROMIUM = "/usr/bin/chromium"


def wait_for(what, check, timeout=60.0, seen=lambda: ""):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}; saw {seen()}")


with sync_playwright() as p:
    browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
    page = browser.new_page(viewport={"width": 1500, "height": 1300})
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{base}/dashboard")
    if key != "-":
        page.wait_for_selector("#login:not([hidden])")
        page.screenshot(path=out / "login.png")
        page.fill("#key", key)
        page.click("#login-form button")
    page.wait_for_selector("#main:not([hidden])")
    page.wait_for_function("window.ruskDashboard.snapshots > 0")

    submit = urllib.request.Request(
        f"{base}/v1/jobs",
        data=Path(spec).read_bytes(),
        headers={"Content-Type": "application/json"}
        | ({} if key == "-" else {"Authorization": f"Bearer {key}"}),
    )
    with urllib.request.urlopen(submit) as response:
        job = json.load(response)["id"]
    # It appears in the list; a click opens it.
    page.click(f"tr.job[data-id='{job}']")
    page.wait_for_selector(f"tr.job.selected[data-id='{job}']")

    # The progress bar of the running job advances between snapshots.
    bar = f"tr.job[data-id='{job}'] .bar"

    def progress():
        done = page.get_attribute(bar, "data-done")
        rows = page.get_attribute(bar, "data-rows")
        state = page.get_attribute(f"tr.job[data-id='{job}']", "data-state")
        return int(done or 0), int(rows or 0), state

    first = wait_for(
        "the job to run",
        lambda: (lambda p: p if p[2] == "running" else None)(progress()),
        seen=progress,
    )
    later = wait_for(
        "the progress bar to advance",
        lambda: (lambda p: p if (p[0], p[1]) > first[:2] else None)(progress()),
    )
    print(f"progress {first} -> {later}")

    # The task stream draws spans while the job runs.
    drawn = wait_for("spans drawn", lambda: page.evaluate("window.ruskDashboard.spansDrawn"))
    running = page.get_attribute(f"tr.job[data-id='{job}']", "data-state")
    print(f"spans drawn: {drawn} (job {running})")
    page.screenshot(path=out / "dashboard-running.png", full_page=True)

    # The workers panel shows a live worker with its slots and its device (the test's worker
    # has the CPU stand-in device).
    workers = page.locator("tr.worker")
    assert workers.count() >= 1, "no worker shown"
    worker_row = workers.first.inner_text()
    assert "busy" in worker_row, worker_row
    assert "stub:0" in worker_row, worker_row
    device = workers.first.locator("span.gpu").first.get_attribute("title")
    assert device == "CPU stand-in (test seam)", device

    # Only this tenant's jobs.
    ids = page.evaluate("window.ruskDashboard.jobs")
    assert job in ids, ids
    assert other not in ids, f"another tenant's job {other} is listed"
    assert other not in page.content()

    # Once it has succeeded: the plan with per-node rows, the result preview, the report.
    wait_for(
        "the job to succeed",
        lambda: page.get_attribute(f"tr.job[data-id='{job}']", "data-state") == "succeeded",
        timeout=300,
    )
    page.wait_for_selector("#plan g.node")
    page.wait_for_selector("#preview tbody tr")
    nodes = page.locator("#plan g.node").count()
    print(f"plan nodes: {nodes}")
    page.screenshot(path=out / "dashboard-job.png", full_page=True)
    html = page.evaluate(
        """async ([job, key]) => {
            const h = key === "-" ? {} : {Authorization: "Bearer " + key};
            return await (await fetch(`/v1/jobs/${job}/report`, {headers: h})).text();
        }""",
        [job, key],
    )
    report = out / "report.html"
    report.write_text(html)
    # The report opens from disk, with no server.
    offline = browser.new_page(viewport={"width": 1500, "height": 1100})
    offline.route("**/*", lambda route: route.abort() if not route.request.url.startswith("file:") else route.continue_())
    offline.goto(report.resolve().as_uri())
    spans = offline.evaluate("window.ruskReport.spansDrawn")
    assert spans > 0, "the report drew no spans"
    assert offline.locator("#plan g.node").count() == nodes
    offline.screenshot(path=out / "report.png", full_page=True)
    print(f"report spans drawn: {spans}")
    assert not errors, errors
    browser.close()
print(job)
