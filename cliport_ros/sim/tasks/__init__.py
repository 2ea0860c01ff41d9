"""Language-conditioned tabletop tasks, registered by name (``make_task``)."""

from cliport_ros.sim.tasks import (  # noqa: F401  (registers)
    align_rope,
    assembling_kits,
    packing_boxes_pairs,
    packing_shapes,
    put_block_in_bowl,
    separating_piles,
    stack_block_pyramid,
    towers_of_hanoi,
)
from cliport_ros.sim.tasks.base import TASKS, Task, make_task, register_task

__all__ = ["TASKS", "Task", "make_task", "register_task"]
