"""Keep DDS traffic on this machine and away from other runs (DESIGN §3), and clear what dead runs leave."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from cliport_ros.perception.config import config_dir

FASTDDS_PROFILE = "fastdds_large_images.xml"


def loopback_dds() -> None:
    """Keep discovery on this machine and use the large-image profile, unless the user chose otherwise.

    For the commands a user runs against a stack (``cliport up``, ``reset``,
    ``instruct``): ROS_DOMAIN_ID is left as the user set it.
    """
    os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
    os.environ.setdefault("FASTDDS_DEFAULT_PROFILES_FILE", str(config_dir() / FASTDDS_PROFILE))


def isolate_dds(domain_id: int | None = None) -> int:
    """Set LOCALHOST discovery, a ROS_DOMAIN_ID and the large-image Fast DDS profile.

    For this process and its children; must run before the first
    ``rclpy.init``. Without ``domain_id`` one is derived from the process id
    (1..100), so parallel runs rarely meet. A profile the user already set
    via FASTDDS_DEFAULT_PROFILES_FILE is kept.
    """
    os.environ["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "LOCALHOST"
    os.environ.pop("ROS_STATIC_PEERS", None)
    os.environ.setdefault("FASTDDS_DEFAULT_PROFILES_FILE", str(config_dir() / FASTDDS_PROFILE))
    if domain_id is None:
        domain_id = os.getpid() % 100 + 1
    os.environ["ROS_DOMAIN_ID"] = str(domain_id)
    return domain_id


def clean_dead_shared_memory() -> str:
    """Remove the Fast DDS shared-memory files whose owner has died, with Fast DDS's ``fastdds shm clean``.

    A node that is SIGKILLed or crashes leaves its segment in /dev/shm, held in RAM until reboot (up to the
    64 MiB the large-image profile asks for): enough runs that kill nodes fill the machine's memory. The
    tool removes only files whose owner's lock is free, so live participants keep theirs. Returns the
    tool's summary, or why it could not run; never raises, as a stack must start without it.
    """
    tool = shutil.which("fastdds")
    if tool is None:
        return "fastdds not on PATH: dead Fast DDS shared memory was not cleaned"
    # bin/fastdds runs tools/fastdds/fastdds.py with the first python3 on PATH; run it with this interpreter,
    # which has the tool's dependency (psutil).
    script = Path(tool).resolve().parent.parent / "tools" / "fastdds" / "fastdds.py"
    command = [sys.executable, str(script)] if script.is_file() else [tool]
    try:
        done = subprocess.run([*command, "shm", "clean"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"fastdds shm clean did not run: {exc}"
    if done.returncode != 0:
        return f"fastdds shm clean failed ({done.returncode}): {(done.stderr or done.stdout).strip()[-300:]}"
    return " ".join(line.strip() for line in done.stdout.splitlines() if "cleaned" in line)
