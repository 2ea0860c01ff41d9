"""Whether a decision is in the executor's terms: the frame it plans in and the workspace it guards.

A decision's poses are read from a heightmap, in the heightmap's frame and within its bounds. The
executor plans in ``base_frame`` and refuses targets outside its own workspace; if perception fused into
another frame or other bounds (a perception YAML overriding ``workspace.*`` and the executor's not), the
pixels the policy chose mean other places than the executor assumes, so the decision is refused.
"""

from __future__ import annotations

from cliport_ros.execution.planner import PlanError
from cliport_ros.perception.workspace import Workspace


def check_decision_frame(decision_frame: str, base_frame: str, workspace: Workspace,
                         heightmap_frame: str | None = None, heightmap_bounds: Workspace | None = None) -> None:
    """PlanError("outside_workspace") unless the decision and the heightmap behind it (if known) are in
    ``base_frame`` and the heightmap's bounds are ``workspace``."""
    if decision_frame != base_frame:
        raise PlanError("outside_workspace", f"the decision is in frame '{decision_frame}'; this executor plans in "
                        f"'{base_frame}' (no transform is applied)")
    if heightmap_frame is not None and heightmap_frame != base_frame:
        raise PlanError("outside_workspace", f"the heightmap is in frame '{heightmap_frame}'; this executor plans in "
                        f"'{base_frame}'")
    if heightmap_bounds is not None and heightmap_bounds != workspace:
        raise PlanError("outside_workspace", f"the heightmap covers {_bounds(heightmap_bounds)}, the executor's "
                        f"workspace is {_bounds(workspace)}: give perception and executor one workspace")


def _bounds(ws: Workspace) -> str:
    return (f"x [{ws.x_min:g}, {ws.x_max:g}], y [{ws.y_min:g}, {ws.y_max:g}], z [{ws.z_min:g}, {ws.z_max:g}] "
            f"at {ws.pixel_size:g} m")
