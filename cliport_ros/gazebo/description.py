"""The robot description for Gazebo Sim: the arm profile's own URDF plus what Gazebo and ros2_control need.

Generated, not written by hand, so that the joints, links and limits are the executor's (one source): the
URDF the profile names (the simulator's and the executor's kinematics), its joint limits narrowed to the
profile's published limits (the FR3's), and on top of it

- a ``world`` link welded to the arm's root (the arm stands at the origin, as in the simulator);
- a ``ros2_control`` system for ``gz_ros2_control/GazeboSimSystem``: every arm joint (and finger) with a
  position command and position + velocity state, starting at the profile's home pose; a joint the URDF
  makes ``<mimic>`` another (the Panda's second finger) gets state interfaces only, since ros2_control
  (Jazzy on) refuses a mimic joint with a command interface and GazeboSimSystem drives it from the joint
  it mimics;
- the ``gz_ros2_control-system`` plugin reading the controllers YAML;
- a contact sensor on each of the profile's contact links (its topic inside ``<contact>``, where gz-sim's
  Contact system reads it) and one ``DetachableJoint`` per graspable
  object (``cliport_ros.gazebo.gripper``), on links kept apart from their parents with
  ``preserveFixedJoint`` (Gazebo's URDF conversion merges fixed-joint children into their parents);
- mesh paths made absolute ``file://`` URIs, since Gazebo resolves neither pybullet_data's
  ``package://meshes/...`` nor paths relative to a URDF it receives as a string.

Plain URDF, no xacro: nothing to install, and ``check_urdf`` reads the output as it is.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cliport_ros.execution.arms import ArmProfile
from cliport_ros.gazebo.gripper import attach_topic, contact_topic, detach_topic, state_topic
from cliport_ros.gazebo.markup import sub, to_text

HARDWARE_PLUGIN = "gz_ros2_control/GazeboSimSystem"
CONTROL_PLUGIN = ("gz_ros2_control-system", "gz_ros2_control::GazeboSimROS2ControlPlugin")
DETACHABLE_JOINT = ("gz-sim-detachable-joint-system", "gz::sim::systems::DetachableJoint")
OBJECT_LINK = "body"  # the one link of every exported object model (cliport_ros.gazebo.scene)
MOVABLE = ("revolute", "prismatic", "continuous")


@dataclass(frozen=True)
class JointLimit:
    lower: float  # rad (m for a finger)
    upper: float
    velocity: float  # rad/s (m/s)
    effort: float


def _movable_joints(robot: ET.Element) -> list[ET.Element]:
    return [j for j in robot.findall("joint") if j.get("type") in MOVABLE]


def arm_joints(profile: ArmProfile) -> list[str]:
    """The profile's arm joints in URDF order: what the executor commands (its default ``joint_names``)."""
    robot = ET.parse(profile.urdf).getroot()
    return [j.get("name") for j in _movable_joints(robot) if j.get("name") not in profile.finger_joints]


def joint_limits(profile: ArmProfile) -> dict[str, JointLimit]:
    """Every movable joint's limits: its URDF's, narrowed to the profile's ``lower``/``upper``/
    ``max_velocity`` where it has them (the plans keep within both, so Gazebo enforces both)."""
    robot = ET.parse(profile.urdf).getroot()
    arm = arm_joints(profile)
    limits = {}
    for joint in _movable_joints(robot):
        name, limit = joint.get("name"), joint.find("limit")
        lower, upper = float(limit.get("lower", "-inf")), float(limit.get("upper", "inf"))
        velocity, effort = float(limit.get("velocity", "inf")), float(limit.get("effort", "inf"))
        if name in arm:
            k = arm.index(name)
            lower = max(lower, profile.lower[k]) if profile.lower else lower
            upper = min(upper, profile.upper[k]) if profile.upper else upper
            velocity = min(velocity, profile.max_velocity[k]) if profile.max_velocity else velocity
        limits[name] = JointLimit(lower, upper, velocity, effort)
    return limits


def mimic_joints(profile: ArmProfile) -> dict[str, str]:
    """Joints the profile's URDF makes ``<mimic>`` another: {mimic joint: the joint it follows}."""
    robot = ET.parse(profile.urdf).getroot()
    return {j.get("name"): j.find("mimic").get("joint") for j in robot.findall("joint") if j.find("mimic") is not None}


def commanded_finger_joints(profile: ArmProfile) -> tuple[str, ...]:
    """The finger joints that take a command (``finger_controller``'s joints); a mimic finger follows."""
    mimics = mimic_joints(profile)
    return tuple(j for j in profile.finger_joints if j not in mimics)


def attach_link(profile: ArmProfile) -> str:
    """The link an object is welded to: the suction cup, or the hand the fingers hang from."""
    if profile.gripper == "suction":
        return profile.contact_links[0]
    if profile.gripper == "fingers":
        robot = ET.parse(profile.urdf).getroot()
        finger = next(j for j in robot.findall("joint") if j.get("name") == profile.finger_joints[0])
        return finger.find("parent").get("link")
    raise ValueError(f"Gazebo has no gripper for a {profile.gripper!r} tool (arm {profile.name})")


def _initial_positions(profile: ArmProfile) -> dict[str, float]:
    home = dict(zip(arm_joints(profile), profile.home, strict=True))
    return {**home, **{finger: profile.finger_open for finger in profile.finger_joints}}


def _absolute_meshes(robot: ET.Element, urdf_dir: Path) -> None:
    for mesh in robot.iter("mesh"):
        filename = mesh.get("filename", "")
        if filename.startswith("file://"):
            continue
        relative = filename.removeprefix("package://")
        path = urdf_dir / relative
        if not path.is_file():
            raise FileNotFoundError(f"mesh {filename!r} of {urdf_dir}: no file {path}")
        mesh.set("filename", path.resolve().as_uri())


def _collision_name(robot: ET.Element, link: str) -> str:
    """The name Gazebo's URDF conversion gives the link's first collision (sdformat parser_urdf.cc:
    the URDF collision's name, else the link's, + ``_collision``)."""
    element = robot.find(f"link[@name='{link}']/collision")
    if element is None:
        raise ValueError(f"link {link!r} has no collision for a contact sensor")
    return (element.get("name") or link) + "_collision"


def gazebo_urdf(profile: ArmProfile, controllers_yaml: str | Path, objects: Sequence[str] = (),
                contact_rate: float = 100.0) -> str:
    """The URDF (a string) of ``profile``'s arm for Gazebo, its ros2_control plugin reading
    ``controllers_yaml``, with one DetachableJoint per model name in ``objects``."""
    urdf = Path(profile.urdf)
    robot = ET.parse(urdf).getroot()
    _absolute_meshes(robot, urdf.parent)
    limits = joint_limits(profile)
    for joint in _movable_joints(robot):
        limit, value = joint.find("limit"), limits[joint.get("name")]
        # repr: the shortest exact text, so rounding never widens a limit
        limit.set("lower", repr(value.lower))
        limit.set("upper", repr(value.upper))
        limit.set("velocity", repr(value.velocity))

    children = {j.find("child").get("link") for j in robot.findall("joint")}
    root = next(link.get("name") for link in robot.findall("link") if link.get("name") not in children)
    robot.insert(0, ET.Element("link", name="world"))
    world_joint = ET.Element("joint", name="world_joint", type="fixed")
    sub(world_joint, "parent", link="world")
    sub(world_joint, "child", link=root)
    sub(world_joint, "origin", xyz="0 0 0", rpy="0 0 0")
    robot.insert(1, world_joint)

    control = sub(robot, "ros2_control", name="GazeboSimSystem", type="system")
    sub(sub(control, "hardware"), "plugin", HARDWARE_PLUGIN)
    mimics = mimic_joints(profile)
    for name, initial in _initial_positions(profile).items():
        joint = sub(control, "joint", name=name)
        if name not in mimics:
            command = sub(joint, "command_interface", name="position")
            sub(command, "param", repr(limits[name].lower), name="min")
            sub(command, "param", repr(limits[name].upper), name="max")
        sub(sub(joint, "state_interface", name="position"), "param", repr(float(initial)), name="initial_value")
        sub(joint, "state_interface", name="velocity")

    plugin = sub(sub(robot, "gazebo"), "plugin", filename=CONTROL_PLUGIN[0], name=CONTROL_PLUGIN[1])
    sub(plugin, "parameters", str(controllers_yaml))

    parent = attach_link(profile)
    kept = {parent, *profile.contact_links}
    for joint in robot.findall("joint"):
        if joint.get("type") == "fixed" and joint.find("child").get("link") in kept:
            sub(sub(robot, "gazebo", reference=joint.get("name")), "preserveFixedJoint", "true")
    for link in profile.contact_links:
        sensor = sub(sub(robot, "gazebo", reference=link), "sensor", name=f"{link}_contact", type="contact")
        sub(sensor, "always_on", "true")
        sub(sensor, "update_rate", f"{contact_rate:g}")
        # gz-sim's Contact system reads <contact><topic>; a <sensor><topic> it ignores, publishing instead
        # on /world/<w>/model/<m>/link/<l>/sensor/<s>/contact, where nothing listens.
        contact = sub(sensor, "contact")
        sub(contact, "collision", _collision_name(robot, link))
        sub(contact, "topic", contact_topic(link))
    if objects:
        # Each slot welds its object to the tool on its first update (gz-sim DetachableJoint has no way to
        # start detached up to Harmonic/Ionic/Jetty); gz_gripper_node lets every one go before it offers
        # gripper/set, and the executor moves nothing until it does (cliport_ros.gazebo.gripper).
        gazebo = sub(robot, "gazebo")
        for model in objects:
            joint = sub(gazebo, "plugin", filename=DETACHABLE_JOINT[0], name=DETACHABLE_JOINT[1])
            sub(joint, "parent_link", parent)
            sub(joint, "child_model", model)
            sub(joint, "child_link", OBJECT_LINK)
            sub(joint, "attach_topic", attach_topic(model))
            sub(joint, "detach_topic", detach_topic(model))
            sub(joint, "output_topic", state_topic(model))
            sub(joint, "suppress_child_warning", "true")
    return to_text(robot)
