"""Reading certificates: the scoreboard page (checked in a real headless browser where one is
installed), run-to-run comparison, fleet merge, and malformed input."""

from __future__ import annotations

import copy
import importlib
import json
import os
import pathlib
import shutil
import tempfile
from typing import Any

import pytest

import polytape as pt
import polytape.plugins as plugins
from polytape.backends.numpy.backend import NumpyBackend
from polytape.conformance import cli
from polytape.conformance.merge import merge_certificates
from polytape.conformance.scoreboard import compare, render_html
from polytape.plugins import BackendInfo, hookimpl

SUBSET = "s000_quadratic or (test_value and (exp- or add-) and not expm1 and not logaddexp)"
EXAMPLE = pathlib.Path(__file__).resolve().parents[2] / "examples" / "polytape-array-api-strict"


class _Float32Chip(NumpyBackend):
    """Stands in for a vendor's device with few dtypes."""

    name = "f32board"
    native_dtypes = {k: v for k, v in NumpyBackend.native_dtypes.items()
                     if str(k) in ("bool", "int32", "int64", "float32")}


class _Chip:
    @hookimpl
    def polytape_register_backends(self, registry: Any) -> None:
        registry.add(BackendInfo(name="f32board", factory=_Float32Chip, priority=-10))


def _third_backend() -> tuple[str, Any]:
    """The example third-party plugin when its library is installed, else a run-time backend
    (``None``: the plugin is installed already, nothing to register)."""
    try:
        importlib.import_module("array_api_strict")
    except ImportError:
        return "f32board", _Chip()
    if "array_api_strict" in [s.name for s in pt.list_backends()]:
        return "array_api_strict", None
    import sys

    sys.path.insert(0, str(EXAMPLE))
    return "array_api_strict", importlib.import_module("polytape_array_api_strict.plugin")


@pytest.fixture(scope="module")
def certificates(tmp_path_factory) -> dict[str, pathlib.Path]:
    """Certificates of numpy, torch (when it can run) and a third backend, a few cases each."""
    out = tmp_path_factory.mktemp("certs")
    third, plugin = _third_backend()
    registered = plugins.register(plugin, name="scoreboard-third") if plugin is not None else None
    try:
        names = ["numpy"] + [s.name for s in pt.list_backends() if s.name == "torch" and s.available]
        paths = {}
        for name in [*names, third]:
            paths[name] = out / f"{name}.json"
            code = cli.main(["--backend", name, "-k", SUBSET,
                             "--report", str(paths[name]), "--markdown", str(out / f"{name}.md")])
            assert code == 0, (out / f"{name}.md").read_text()
        yield paths
    finally:
        if registered is not None:
            plugins.unregister(registered)


def _load(path: pathlib.Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def test_page_is_self_contained_and_has_every_member(certificates):
    certs = [_load(p) for p in certificates.values()]
    page = render_html(certs)
    for external in ("http://", "https://", "<link", " src=", "@import", "url("):
        assert external not in page, external
    assert page.count('<th class="member"') == len(certs)
    assert 'data-row="op:exp"' in page and 'data-row="group:values"' in page


def test_merge_gives_one_fleet_certificate(certificates, tmp_path, capsys):
    fleet_json, fleet_md, fleet_html = tmp_path / "fleet.json", tmp_path / "fleet.md", tmp_path / "f.html"
    code = cli.main(["merge", *map(str, certificates.values()), "--report", str(fleet_json),
                     "--markdown", str(fleet_md), "--html", str(fleet_html)])
    assert code == 0, capsys.readouterr()
    fleet = _load(fleet_json)
    assert fleet["kind"] == "fleet" and fleet["verdict"] == "certified"
    assert [m["backend"] for m in fleet["members"]] == list(certificates)
    assert fleet["headline"].startswith(f"CERTIFIED (partial: at least one member ran a selection) · "
                                        f"{len(certificates)} of {len(certificates)} members certified")
    third = list(certificates)[-1]
    exp16 = fleet["matrix"]["ops"]["exp"]["float16"]
    label = {m["backend"]: m["label"] for m in fleet["members"]}
    assert exp16["differs"] and exp16["statuses"][label[third]] == "unsupported"
    assert exp16["statuses"][label["numpy"]] == "passed"
    assert any(d["row"] == "exp" and d["column"] == "float16" for d in fleet["differences"])
    text = fleet_md.read_text()
    assert text.startswith("# polytape conformance fleet certificate\n\n**Verdict: CERTIFIED (partial: ")
    assert "## Where members differ" in text and "- op `exp`, float16: " in text
    # The fleet certificate embeds its members: the page can be redrawn from it alone.
    assert cli.main(["report", str(fleet_json), "--html", str(tmp_path / "again.html")]) == 0
    assert (tmp_path / "again.html").read_text() == render_html([fleet])


def test_compare_lists_regressions_and_fixes(certificates, tmp_path, capsys):
    old = _load(certificates["numpy"])
    new = copy.deepcopy(old)
    cases = new["backends"][0]["cases"]
    broken = next(c for c in cases if c["case"] == "exp" and c["dtype"] == "float32")
    broken["outcome"], broken["message"] = "failed", "exp: max |error| 0.25 exceeds the value tolerance"
    dropped = next(c for c in cases if c["case"] == "add" and c["dtype"] == "int8")
    cases.remove(dropped)
    new_path = tmp_path / "new.json"
    new_path.write_text(json.dumps(new))
    code = cli.main(["report", "--compare", str(certificates["numpy"]), str(new_path)])
    out = capsys.readouterr().out
    assert code == 1
    result = compare(old, new)
    (b,) = result["backends"]
    assert {(r["id"], r["was"], r["now"]) for r in b["regressions"]} == {
        (broken["id"], "passed", "failed"), (dropped["id"], "passed", "not run")}
    assert b["fixes"] == []
    assert f"- `{broken['id']}`: passed → failed — exp: max |error| 0.25" in out
    assert cli.main(["report", "--compare", str(new_path), str(certificates["numpy"])]) == 0
    assert f"### Fixes (1)\n\n- `{broken['id']}`: failed → passed" in capsys.readouterr().out


@pytest.mark.parametrize("content, message", [
    ("{not json", "not valid JSON"),
    ('{"suite": "something else"}', "not a polytape conformance certificate"),
    ('{"suite": "polytape conformance", "backends": [{"name": "x"}]}', '"backends" must be a list'),
    ('{"suite": "polytape conformance", "kind": "fleet", "certificates": []}',
     "a fleet certificate without member"),
])
def test_malformed_certificates_are_refused(tmp_path, capsys, content, message):
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    for command in (["report", str(bad), "--html", str(tmp_path / "x.html")],
                    ["merge", str(bad), "--report", str(tmp_path / "fleet.json")]):
        assert cli.main(command) == 2
        err = capsys.readouterr().err
        assert f"{bad}: {message}" in err and "Traceback" not in err
    assert not (tmp_path / "x.html").exists() and not (tmp_path / "fleet.json").exists()
    assert cli.main(["report", str(tmp_path / "missing.json")]) == 2
    assert "cannot read" in capsys.readouterr().err


# -- the page in a real browser -----------------------------------------------------------------
def _browser() -> Any:
    """A headless Chromium driven by Selenium, or a skip that says what is missing."""
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed "
                                    "(pip install -e '.[browser]')")
    binary = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome")
                   if shutil.which(n)), None)
    driver_path = shutil.which("chromedriver")
    if binary is None or driver_path is None:
        pytest.skip("no Chromium and chromedriver on PATH (Debian: apt-get install chromium "
                    "chromium-driver)")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = binary
    profile = tempfile.mkdtemp(prefix="polytape-chromium-")
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run",
                "--disable-dev-shm-usage", f"--user-data-dir={profile}"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    driver.polytape_profile = profile
    return driver


def test_scoreboard_in_a_headless_browser(certificates, tmp_path):
    driver = _browser()
    try:
        fleet = merge_certificates([_load(p) for p in certificates.values()])
        page = tmp_path / "scoreboard.html"
        page.write_text(render_html([fleet]))
        driver.get(page.as_uri())
        js = driver.execute_script
        members = js("return [...document.querySelectorAll('#matrix th.member')].map(e => e.textContent)")
        assert members == [m["label"] for m in fleet["members"]]

        def status(row: str, member: int, dtype: str) -> str:
            return js("const c = document.querySelector(`tr[data-row='${arguments[0]}'] "
                      "td[data-member='${arguments[1]}'][data-dtype='${arguments[2]}']`);"
                      "return c ? c.dataset.status : null;", row, str(member), dtype)

        third = len(members) - 1
        assert status("op:exp", 0, "float32") == "passed"
        assert status("op:exp", third, "float16") == "unsupported"
        assert status("op:exp", 0, "int32") == ""           # exp has no integer case
        assert status("op:sin", 0, "float32") == "not run"  # not selected by -k
        # Every cell matches the certificate it came from.
        for i, m in enumerate(fleet["members"]):
            cert = next(c for c in fleet["certificates"] for b in c["backends"] if b["spec"] == m["backend"])
            for dtype, cell in cert["backends"][0]["matrix"]["ops"]["add"].items():
                assert status("op:add", i, dtype) == cell["status"], (m["label"], dtype)
        # A passed cell is shaded by its error ratio (the heat map), a failed one is red.
        shade = js("return getComputedStyle(document.querySelector(\"tr[data-row='op:exp'] "
                   "td[data-member='0'][data-dtype='float16']\")).backgroundColor")
        assert shade.startswith("rgb(") and shade != "rgb(255, 255, 255)"

        visible = "return [...document.querySelectorAll('#matrix tbody tr')].filter(r => !r.hidden)" \
                  ".map(r => r.dataset.name)"
        every = js(visible)
        assert len(every) == 1 + len(fleet["matrix"]["groups"]) + len(fleet["matrix"]["ops"])
        assert status("verdict", 0, "float16") == "certified"
        assert status("verdict", third, "float16") == "unsupported"
        box = driver.find_element("id", "filter")
        box.send_keys("exp")
        shown = js(visible)
        assert shown and all("exp" in name for name in shown)  # the verdict row too is filtered
        assert shown == [n for n in every if "exp" in n]
        assert driver.find_element("id", "shown").text == str(len(shown))
        box.clear()
        box.send_keys(" ")  # clear() fires no input event; a blank query shows every row
        assert js(visible) == every
        driver.find_element("id", "only-diff").click()
        differing = js(visible)
        assert "exp" in differing and set(differing) < set(every)
        driver.find_element("id", "only-diff").click()
        from selenium.webdriver.support.ui import Select

        Select(driver.find_element("id", "dtype")).select_by_value("float16")
        cols = js("return [...document.querySelectorAll(\"tr[data-row='op:exp'] td\")]"
                  ".filter(c => !c.hidden).map(c => c.dataset.dtype)")
        assert cols == ["float16"] * len(members)
    finally:
        driver.quit()
        shutil.rmtree(driver.polytape_profile, ignore_errors=True)


def test_browser_test_skips_with_a_reason_without_a_browser(monkeypatch):
    """Where no browser is installed the page test is skipped, naming what is missing."""
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.setitem(os.environ, "PATH", "")
    with pytest.raises(pytest.skip.Exception) as info:
        _browser()
    assert "chromium" in str(info.value).lower() or "selenium" in str(info.value).lower()
