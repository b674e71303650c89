"""Atomic saves: what a killed save leaves is removed by the next one, and only that; modes, symlinks and
empty names."""
import os
import stat
import subprocess
import sys
import time

import numpy as np
import pytest
from model_files import small_model

import seqnn as sn
from seqnn.saving import atomic

# A temporary left by a process killed before this one started.
KILLED_BEFORE = atomic._PROCESS_START - 60


def leave_temporary(directory, target, suffix="abc123_z", mtime=KILLED_BEFORE, content=b"half a file"):
    path = directory / f".{target}.{suffix}.tmp"
    path.write_bytes(content)
    os.utime(path, (mtime, mtime))
    return path


@pytest.mark.parametrize("save", [
    lambda model, path: model.save(path),
    lambda model, path: model.save_weights(path),
    lambda model, path: model.fit(np.zeros((8, 4), np.float32), np.zeros(8, int), epochs=1, verbose=0,
                                  callbacks=[sn.callbacks.ModelCheckpoint(path)]),
])
def test_the_next_save_removes_what_a_killed_save_of_the_same_file_left(tmp_path, save):
    stale = [leave_temporary(tmp_path, "m.safetensors", suffix) for suffix in ("abc123_z", "k1lled00", "qqqqqqqq")]
    save(small_model(), tmp_path / "m.safetensors")
    assert not any(p.exists() for p in stale)
    assert sorted(os.listdir(tmp_path)) == ["m.safetensors"]


def test_temporaries_that_are_not_stale_or_not_this_targets_stay(tmp_path):
    keep = [
        leave_temporary(tmp_path, "other.safetensors"),                    # another target's
        leave_temporary(tmp_path, "m.safetensors", mtime=time.time() + 5),  # newer than this process: in progress
        leave_temporary(tmp_path, "m.safetensors", suffix="short"),         # not the pattern
        leave_temporary(tmp_path, "m.safetensors", suffix="ABCDEFGH"),      # not mkstemp's alphabet
        leave_temporary(tmp_path, "m.safetensors.x", suffix="abcdefgh"),    # a longer name
        tmp_path / "m.safetensors.abcdefgh.tmp",                            # not hidden
    ]
    keep[-1].write_bytes(b"x")
    os.utime(keep[-1], (KILLED_BEFORE, KILLED_BEFORE))
    directory = tmp_path / ".m.safetensors.dirdirdi.tmp"
    directory.mkdir()
    os.utime(directory, (KILLED_BEFORE, KILLED_BEFORE))
    target = leave_temporary(tmp_path, "precious", suffix="precious")
    link = tmp_path / ".m.safetensors.linklink.tmp"
    link.symlink_to(target)
    os.utime(link, (KILLED_BEFORE, KILLED_BEFORE), follow_symlinks=False)
    small_model().save(tmp_path / "m.safetensors")
    assert all(p.exists() for p in keep) and directory.is_dir() and link.is_symlink() and target.exists()


def test_a_temporary_left_by_a_sigkilled_save_is_removed_by_the_next_process(tmp_path):
    script = (
        "import os, signal, sys, numpy as np, seqnn as sn\n"
        "from seqnn.saving import atomic\n"
        "real = atomic.atomic_write\n"
        "def killed_midway(path, write):\n"
        "    def half(f):\n"
        "        f.write(b'x' * 1000); f.flush(); os.kill(os.getpid(), signal.SIGKILL)\n"
        "    real(path, half)\n"
        "import seqnn.saving.safetensors_file as sf\n"
        "sf.atomic_write = killed_midway\n"
        "sn.Sequential([sn.Input((3,)), sn.layers.Dense(2)]).save(sys.argv[1])\n")
    target = tmp_path / "m.safetensors"
    done = subprocess.run([sys.executable, "-c", script, str(target)], capture_output=True, timeout=120)
    assert done.returncode == -9, done.stderr.decode()[-2000:]
    left = [name for name in os.listdir(tmp_path) if name.endswith(".tmp")]
    assert len(left) == 1 and not target.exists()
    subprocess.run([sys.executable, "-c", "import sys, seqnn as sn; "
                    "sn.Sequential([sn.Input((3,)), sn.layers.Dense(2)]).save(sys.argv[1])", str(target)],
                   check=True, timeout=120)
    assert os.listdir(tmp_path) == ["m.safetensors"]


def test_resaving_keeps_the_files_mode(tmp_path):
    path = tmp_path / "m.safetensors"
    model = small_model()
    model.save(path)
    os.chmod(path, 0o640)
    model.save(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640
    os.chmod(path, 0o604)
    model.save_weights(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o604


def test_a_new_file_gets_the_mode_open_would_give_it(tmp_path):
    previous = os.umask(0o027)
    try:
        small_model().save(tmp_path / "m.safetensors")
        open(tmp_path / "plain", "w").close()
    finally:
        os.umask(previous)
    assert stat.S_IMODE(os.stat(tmp_path / "m.safetensors").st_mode) == stat.S_IMODE(
        os.stat(tmp_path / "plain").st_mode) == 0o640


def test_saving_through_a_symlink_writes_its_target_and_keeps_the_link(tmp_path):
    (tmp_path / "store").mkdir()
    target = tmp_path / "store" / "real.safetensors"
    link = tmp_path / "latest.safetensors"
    model = small_model()
    model.save(target)
    link.symlink_to(target)
    model.layers[0].set_weights([np.ones((4, 5)), np.ones(5)])
    model.save(link)
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert np.array_equal(sn.load_model(target).layers[0].get_weights()[0], np.ones((4, 5)))
    assert sorted(os.listdir(tmp_path / "store")) == ["real.safetensors"]


def test_a_dangling_symlink_gets_its_target_created(tmp_path):
    link = tmp_path / "latest.safetensors"
    link.symlink_to(tmp_path / "new.safetensors")
    small_model().save(link)
    assert link.is_symlink() and sn.load_model(tmp_path / "new.safetensors").built


@pytest.mark.parametrize("save", ["save", "save_weights"])
def test_an_empty_file_name_is_a_clear_error(save):
    with pytest.raises(ValueError, match=f"{save}: filepath is empty; give a file name ending in .safetensors"):
        getattr(small_model(), save)("")


def test_modelcheckpoint_refuses_an_empty_file_name():
    with pytest.raises(ValueError, match="ModelCheckpoint: filepath is empty"):
        sn.callbacks.ModelCheckpoint("")


def test_atomic_write_refuses_an_empty_path_and_a_directory(tmp_path):
    with pytest.raises(ValueError, match="path is empty"):
        atomic.atomic_write("", lambda f: None)
    with pytest.raises(ValueError, match="is a directory"):
        atomic.atomic_write(tmp_path, lambda f: None)
