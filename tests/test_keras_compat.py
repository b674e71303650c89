"""A script written for Keras's Sequential API runs unchanged with ``import seqnn as keras``."""
import os
import re
import runpy
import subprocess
import sys

import pytest

SCRIPTS = [os.path.join(os.path.dirname(__file__), "keras_scripts", name) for name in ("classify.py", "transfer.py")]


@pytest.mark.parametrize("script", SCRIPTS, ids=os.path.basename)
def test_keras_script_runs_with_seqnn(capsys, script):
    runpy.run_path(script, run_name="__main__")
    assert re.search(r"^keras-style .*OK\b", capsys.readouterr().out, re.MULTILINE)


@pytest.mark.parametrize("script", SCRIPTS, ids=os.path.basename)
def test_the_script_is_real_keras_code(tmp_path, script):
    """Where Keras is installed, the same script (with the import swapped) runs under Keras."""
    pytest.importorskip("keras")
    source = open(script).read()
    assert source.count("import seqnn as keras") == 1 and source.count("from seqnn import layers") == 1
    keras_source = source.replace("import seqnn as keras", "import keras").replace(
        "from seqnn import layers", "from keras import layers")
    path = tmp_path / "keras_version.py"
    path.write_text(keras_source)
    env = {**os.environ, "KERAS_BACKEND": os.environ.get("KERAS_BACKEND", "jax")}
    proc = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert re.search(r"^keras-style .*OK\b", proc.stdout, re.MULTILINE)
