"""The DDS environment helpers: a killed node's Fast DDS shared memory is removed, a live node's is kept."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cliport_ros.ros.ros_env import clean_dead_shared_memory

SHM = Path("/dev/shm")
# A participant with the large-image profile (this run's environment, set in conftest): it opens a segment.
NODE = ("import rclpy, time; rclpy.init(); node = rclpy.create_node('shm_owner'); "
        "print('up', flush=True); time.sleep(120)")


def _segments_held(pid: int) -> set[Path]:
    """The Fast DDS segments a process owns: those whose lock file (``<segment>_el``) it holds open."""
    held = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = Path(os.readlink(fd))
        except OSError:
            continue
        if target.parent == SHM and re.fullmatch(r"fastdds_[0-9a-z]{16}_el", target.name):
            held.add(SHM / target.name[:-3])
    return held


def _start_node() -> tuple[subprocess.Popen, set[Path]]:
    proc = subprocess.Popen([sys.executable, "-c", NODE], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "up"
    deadline = time.monotonic() + 10
    while not (segments := _segments_held(proc.pid)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert segments, "the node opened no Fast DDS shared-memory segment"
    return proc, segments


@pytest.mark.skipif(not SHM.is_dir(), reason="Fast DDS keeps shared memory in /dev/shm on Linux only")
def test_clean_removes_a_killed_nodes_segment_and_keeps_a_live_nodes():
    killed, killed_segments = _start_node()
    alive, alive_segments = _start_node()
    try:
        killed.send_signal(signal.SIGKILL)
        killed.wait()
        assert all(segment.exists() for segment in killed_segments), "SIGKILL left nothing to clean"
        summary = clean_dead_shared_memory()
        assert re.search(r"[1-9]\d* zombie segments cleaned", summary), summary
        assert not any(segment.exists() for segment in killed_segments)
        assert all(segment.exists() for segment in alive_segments)
        assert alive.poll() is None
    finally:
        for proc in (killed, alive):
            proc.kill()
            proc.wait()  # what the test leaves, the session's clean-up removes (conftest)
