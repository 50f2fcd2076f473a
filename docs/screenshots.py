"""The screenshots of the web pages in docs/web.md (docs/img/web-*.png): a real
server on 127.0.0.1, Debian's Chromium headless.  Run it after changing a
page:  .venv/bin/python docs/screenshots.py   (Pillow, if installed, makes
the PNGs smaller by quantising them to 256 colours.)"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "pyapi"), str(REPO / "tests")]

from service_server import Server  # noqa: E402
from test_web_browser import CHROMIUM_ARGS  # noqa: E402

SHOTS = {
    "web-determine": ("/determine?policy=cigna-0284&cpt=59325&pregnant=yes&prior_pregnancy_losses=2"
                      "&finding=cone_biopsy&date_of_service=2025-06-01", None),
    "web-question": ("/determine?policy=cigna-0284&service=transabdominal_cerclage&pregnant=yes"
                     "&finding=cone_biopsy&date_of_service=2025-06-01", ".outcome"),
    "web-policy": ("/policy/cigna-0284/2025-02-15", ".policy-heading:text-is(\"Diagnostic Testing\")"),
    "web-revisions": ("/revisions?policy=cigna-0284&a=before-2024-04-15&b=2024-04-15", "#diff-title"),
}


def main() -> None:
    from playwright.sync_api import sync_playwright

    out = REPO / "docs" / "img"
    out.mkdir(parents=True, exist_ok=True)
    server = Server(workers=1)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS)
            page = browser.new_page(base_url=server.url, viewport={"width": 1100, "height": 720})
            for name, (path, scroll_to) in SHOTS.items():
                page.goto(path, wait_until="load")
                if scroll_to:
                    page.locator(scroll_to).first.scroll_into_view_if_needed()
                    page.evaluate("window.scrollBy(0, -60)")
                target = out / f"{name}.png"
                page.screenshot(path=str(target))
                _shrink(target)
                print(f"{target.relative_to(REPO)}  {target.stat().st_size / 1024:.0f} KiB")
            browser.close()
    finally:
        server.stop()


def _shrink(path: Path) -> None:
    try:
        from PIL import Image
    except ImportError:
        return
    Image.open(path).convert("RGB").quantize(256).save(path, optimize=True)


if __name__ == "__main__":
    main()
