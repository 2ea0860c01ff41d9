"""Keep DDS traffic on this machine and away from other runs (DESIGN §3)."""

from __future__ import annotations

import os

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
