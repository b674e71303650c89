"""sphinx-gallery hooks for seqnn's examples (referenced by name from conf.py, so the config stays picklable).

* ``reset_argv``: the command-line arguments each example runs with while the
  docs are built: the MNIST examples train briefly on part of the data, the
  figures of ``training_plots.py`` go to a temporary directory; every other
  example runs with its defaults (each takes about a second).
* ``figure_scraper``: ``seqnn.plot`` returns ``matplotlib.figure.Figure``
  objects made without pyplot, which sphinx-gallery's matplotlib scraper cannot
  see. This scraper shows every Figure held by a top-level variable of the
  example, once, under the code block that made it.
* ``reset_seqnn``: every example starts with fresh automatic layer names
  (``dense``, not ``dense_7``), as it does when run as a script.
"""
from __future__ import annotations

import os
import tempfile

# Arguments for the examples that would be slow with their defaults (file name -> argv).
QUICK_ARGS = {
    "mnist_mlp.py": ["--epochs", "1", "--limit", "5000"],
    "mnist_cnn.py": ["--epochs", "1", "--limit", "2000"],
}

# The gallery's order: first steps first; a file not listed goes last, by name.
ORDER = ["quickstart.py", "training_plots.py", "custom_callback.py", "regression_csv.py", "resume_training.py",
         "mnist_mlp.py", "mnist_cnn.py", "mnist_mlp_distributed.py"]

_shown: dict[str, set[int]] = {}


class ExampleOrder:
    """sphinx-gallery's ``within_subsection_order``: a sort key for the example files of a gallery."""

    def __init__(self, src_dir: str):
        self.src_dir = src_dir

    def __call__(self, filename: str):
        name = os.path.basename(filename)
        return (ORDER.index(name) if name in ORDER else len(ORDER), name)


def reset_argv(gallery_conf, script_vars) -> list[str]:
    name = os.path.basename(script_vars["src_file"])
    if name == "training_plots.py":
        return ["--out-dir", tempfile.mkdtemp(prefix="seqnn-docs-")]
    return list(QUICK_ARGS.get(name, []))


def figure_scraper(block, block_vars, gallery_conf, **kwargs) -> str:
    from matplotlib.figure import Figure
    from sphinx_gallery.scrapers import figure_rst

    shown = _shown.setdefault(block_vars["src_file"], set())
    paths = []
    for value in list(block_vars["example_globals"].values()):
        if isinstance(value, Figure) and id(value) not in shown:
            shown.add(id(value))
            path = next(block_vars["image_path_iterator"])
            value.savefig(path, dpi=100)
            paths.append(path)
    return figure_rst(paths, gallery_conf["src_dir"]) if paths else ""


def reset_seqnn(gallery_conf, fname, when=None) -> None:
    _shown.clear()
    import seqnn

    seqnn.utils.clear_session()
