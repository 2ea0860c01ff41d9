"""Language-conditioned tabletop tasks, registered by name (``make_task``)."""

from cliport_ros.sim.tasks import put_block_in_bowl, stack_block_pyramid, towers_of_hanoi  # noqa: F401  (registers)
from cliport_ros.sim.tasks.base import TASKS, Task, make_task, register_task

__all__ = ["TASKS", "Task", "make_task", "register_task"]
