"""What the Gazebo gripper does, without ROS: which scene object a grip takes, on which topics.

Gazebo has no suction. Its ``DetachableJoint`` system welds one named child model to a parent link on a
message and lets go on another, so every graspable object of an exported scene gets one such system on
the robot (a *slot*), and ``gz_gripper_node`` serves the executor's ``gripper/set`` (std_srvs/SetBool)
by attaching the object the tool's contact sensors report touching. A finger gripper also closes its
fingers first; the weld then holds the object, as friction grasps in Gazebo slip.

A DetachableJoint attaches as soon as its child exists (gz-sim ``DetachableJoint.hh``: "initially
attaches"; ``attachRequested`` starts true in every release so far), so at start-up every object is welded
to the tool. The node detaches every slot it does not hold until each reports ``detached``, and offers
``gripper/set`` only once all have (``GripperState.ready``): the executor checks for that service before
it moves, so the arm never sweeps the welded scene along. Gazebo publishes a slot's state only when it
changes and ignores a detach for a slot already detached, so a ``detached`` lost on the way would never
come again: the node sends a detach only once the bridge carries both the request and the answer.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

ROBOT_MODEL = "robot"  # the robot's model name in Gazebo (ros_gz_sim create -name)
FINGER_CONTROLLER = "finger_controller"  # the Franka hand's position controller (config/gazebo_controllers.yaml)


def attach_topic(model: str) -> str:
    """Topic (gz.msgs.Empty, bridged from std_msgs/Empty) that welds ``model`` to the tool."""
    return f"/gripper/{model}/attach"


def detach_topic(model: str) -> str:
    return f"/gripper/{model}/detach"


def state_topic(model: str) -> str:
    """Topic (gz.msgs.StringMsg -> std_msgs/String) where the slot says "attached" or "detached"."""
    return f"/gripper/{model}/state"


def contact_topic(link: str) -> str:
    """Topic (gz.msgs.Contacts -> ros_gz_interfaces/Contacts) of the contact sensor on ``link``."""
    return f"/gripper/contacts/{link}"


def model_of(scoped: str) -> str:
    """The top-level model of a Gazebo scoped name (``object_3::body::body_collision`` -> ``object_3``)."""
    return scoped.split("::", 1)[0]


def touched_object(contacts: Iterable[tuple[str, str]], objects: Iterable[str],
                   robot: str = ROBOT_MODEL) -> str | None:
    """The first graspable object in a contact with the robot: ``contacts`` are (collision1, collision2)
    scoped names; ``objects`` the slot models. None when the tool touches nothing graspable."""
    graspable = set(objects)
    for first, second in contacts:
        a, b = model_of(first), model_of(second)
        other = b if a == robot else a if b == robot else None
        if other in graspable:
            return other
    return None


@dataclass
class GripperState:
    """Which object is welded to the tool, and which slots are still to be confirmed detached."""

    objects: tuple[str, ...]
    held: str | None = None

    def __post_init__(self) -> None:
        self.unconfirmed = set(self.objects)  # may still be attached from start-up
        self.ready = not self.unconfirmed  # every slot has reported detached once: the scene is free

    def grip(self, touched: str | None) -> str | None:
        """The object to attach (None: not ready, nothing touched, or already holding)."""
        if not self.ready or self.held is not None or touched is None:
            return None
        self.held = touched
        self.unconfirmed.discard(touched)
        return touched

    def release(self) -> str | None:
        """The object to detach (None: nothing held)."""
        held, self.held = self.held, None
        if held is not None:
            self.unconfirmed.add(held)
        return held

    def on_state(self, model: str, state: str) -> None:
        if state == "detached":
            self.unconfirmed.discard(model)
            self.ready = self.ready or not self.unconfirmed
        elif model != self.held and model in self.objects:
            self.unconfirmed.add(model)  # attached without being asked (start-up): detach again

    def to_detach(self) -> list[str]:
        """Slots to (re)send detach on: attached, or not yet confirmed, and not held."""
        return sorted(m for m in self.unconfirmed if m != self.held)


def _entry(topic: str, ros_type: str, gz_type: str, direction: str) -> dict[str, str]:
    return {"ros_topic_name": topic, "gz_topic_name": topic, "ros_type_name": ros_type, "gz_type_name": gz_type,
            "direction": direction}


def gripper_bridge(contact_links: Iterable[str], objects: Iterable[str]) -> list[dict[str, str]]:
    """ros_gz_bridge entries for the gripper: each contact sensor, and each slot's attach, detach, state."""
    entries = [_entry(contact_topic(link), "ros_gz_interfaces/msg/Contacts", "gz.msgs.Contacts", "GZ_TO_ROS")
               for link in contact_links]
    for model in objects:
        entries += [_entry(attach_topic(model), "std_msgs/msg/Empty", "gz.msgs.Empty", "ROS_TO_GZ"),
                    _entry(detach_topic(model), "std_msgs/msg/Empty", "gz.msgs.Empty", "ROS_TO_GZ"),
                    _entry(state_topic(model), "std_msgs/msg/String", "gz.msgs.StringMsg", "GZ_TO_ROS")]
    return entries
