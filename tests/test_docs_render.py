"""The built documentation renders: screenshots of three pages show their content, not a blank page.

Headless Chromium takes a 1280×2000 screenshot of the quick start, a gallery
example (training curves, confusion matrix, model diagram) and an API page;
each must show the page's main content: many colours (text, code highlighting,
figures) and a good share of non-background pixels in the content column, and
the HTML itself must hold what the page is about.

* ``test_built_docs_render`` checks docs that are already built
  (``$SEQNN_DOCS_HTML``, else ``docs/_build/html``) and is skipped when there
  are none or when ``chromium`` is not installed.
* ``test_docs_build_and_render`` (slow, run by CI with ``-m slow``) builds the
  docs itself from a copy of ``docs/`` and ``examples/`` in a temporary
  directory, then checks them the same way.

``SEQNN_SCREENSHOT_DIR`` keeps the screenshots there, to look at.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
WIDTH, HEIGHT = 1280, 2000

# page -> text its HTML must contain (the content the screenshot should show)
PAGES = {
    "quickstart.html": ["Quick start", "Epoch 20/20", "Total params"],
    "auto_examples/training_plots.html": ["Training curves", "sphx_glr_training_plots_001.png",
                                          "sphx_glr_training_plots_003.png", "test accuracy"],
    "api/layers.html": ["seqnn.layers.Dense", "MaxPool2D", "Alias of"],
}

needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")


def screenshot(html_file: str, png: str, profile_dir: str) -> None:
    command = [CHROMIUM, "--headless", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
               f"--user-data-dir={profile_dir}", f"--window-size={WIDTH},{HEIGHT}", f"--screenshot={png}",
               "file://" + os.path.abspath(html_file)]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.insert(1, "--no-sandbox")  # Chromium refuses to run as root with its sandbox (containers)
    proc = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0 and os.path.isfile(png), f"chromium failed: {proc.stderr[-2000:]}"


def content_stats(png: str) -> dict:
    """Distinct colours and the share of non-background pixels, over the page and over its content column."""
    import numpy as np
    from matplotlib import image

    pixels = image.imread(png)
    assert pixels.shape[:2] == (HEIGHT, WIDTH), f"{png}: {pixels.shape[:2]}, expected {(HEIGHT, WIDTH)}"
    rgb = np.round(pixels[..., :3] * 255).astype(np.uint32)
    codes = (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]
    values, counts = np.unique(codes, return_counts=True)
    background = values[counts.argmax()]
    # Furo's content column: right of the navigation sidebar, left of the table of contents.
    column = codes[:, 360:1120]
    return {
        "colours": len(values),
        "background_share": counts.max() / codes.size,
        "column_ink": float(np.mean(column != background)),
        "column_colours": len(np.unique(column)),
    }


def check_pages(html_dir: str, shot_dir: str, profile_dir: str) -> dict:
    results = {}
    for page, texts in PAGES.items():
        html_file = os.path.join(html_dir, page)
        assert os.path.isfile(html_file), f"{page} was not built"
        with open(html_file, encoding="utf-8") as file:
            html = file.read()
        for text in texts:
            assert text in html, f"{page}: {text!r} is not in the page"
        png = os.path.join(shot_dir, page.replace("/", "_").replace(".html", ".png"))
        screenshot(html_file, png, profile_dir)
        stats = content_stats(png)
        results[page] = stats
        # A blank or unstyled-but-empty page is one colour; a page with text, highlighted code and figures has
        # hundreds (anti-aliasing), and its content column is covered well beyond a few stray pixels.
        assert stats["colours"] >= 50, f"{page}: only {stats['colours']} colours: {stats}"
        assert stats["background_share"] < 0.97, f"{page}: almost all background: {stats}"
        assert stats["column_ink"] > 0.03, f"{page}: the content column is nearly empty: {stats}"
        assert stats["column_colours"] >= 30, f"{page}: the content column is nearly uniform: {stats}"
    return results


def shot_dir(tmp_path) -> str:
    where = os.environ.get("SEQNN_SCREENSHOT_DIR") or str(tmp_path / "screenshots")
    os.makedirs(where, exist_ok=True)
    return where


@needs_chromium
def test_built_docs_render(tmp_path):
    html_dir = os.environ.get("SEQNN_DOCS_HTML") or os.path.join(ROOT, "docs", "_build", "html")
    if not os.path.isfile(os.path.join(html_dir, "index.html")):
        pytest.skip(f"no built docs in {html_dir} (set SEQNN_DOCS_HTML, or run the slow test that builds them)")
    check_pages(html_dir, shot_dir(tmp_path), str(tmp_path / "profile"))


@pytest.mark.slow
@needs_chromium
def test_docs_build_and_render(tmp_path):
    for module in ("sphinx", "sphinx_gallery", "furo", "matplotlib"):
        pytest.importorskip(module)
    # Build from a copy, so the generated gallery (docs/auto_examples) stays out of the working tree.
    source = tmp_path / "src"
    ignore = shutil.ignore_patterns("_build", "auto_examples", "sg_execution_times.rst", "__pycache__")
    shutil.copytree(os.path.join(ROOT, "docs"), source / "docs", ignore=ignore)
    shutil.copytree(os.path.join(ROOT, "examples"), source / "examples", ignore=ignore)
    html_dir = tmp_path / "html"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([ROOT, os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}
    proc = subprocess.run([sys.executable, "-m", "sphinx", "-q", "-W", "-b", "html", str(source / "docs"),
                           str(html_dir)], capture_output=True, text=True, timeout=900, cwd=ROOT, env=env,
                          check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    check_pages(str(html_dir), shot_dir(tmp_path), str(tmp_path / "profile"))
