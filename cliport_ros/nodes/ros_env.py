"""Keep DDS traffic on this machine and away from other runs (DESIGN §3)."""

from __future__ import annotations

import os


def isolate_dds(domain_id: int | None = None) -> int:
    """Set LOCALHOST discovery and a ROS_DOMAIN_ID for this process and its children.

    Must run before the first ``rclpy.init``. Without ``domain_id`` one is
    derived from the process id (1..100), so parallel runs rarely meet.
    """
    os.environ["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "LOCALHOST"
    os.environ.pop("ROS_STATIC_PEERS", None)
    if domain_id is None:
        domain_id = os.getpid() % 100 + 1
    os.environ["ROS_DOMAIN_ID"] = str(domain_id)
    return domain_id
