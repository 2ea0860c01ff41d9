"""Language-conditioned tabletop tasks, registered by name (``make_task``)."""

from cliport_ros.sim.tasks import put_block_in_bowl  # noqa: F401  (registers its tasks)
from cliport_ros.sim.tasks.base import TASKS, Task, make_task, register_task

__all__ = ["TASKS", "Task", "make_task", "register_task"]
