"""The Gazebo Sim files, checked without Gazebo: they parse, and they say what the executor, the camera YAML
and perception_node say (joints, limits, controllers, camera poses and intrinsics, topics and types)."""

from __future__ import annotations

import ast
import math
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
import yaml
from scipy.spatial.transform import Rotation

from cliport_ros.execution.arms import ARMS, arm_profile
from cliport_ros.gazebo import gripper
from cliport_ros.gazebo.config import BRIDGE_YAML, CONTROLLERS_YAML
from cliport_ros.gazebo.description import (
    CONTROL_PLUGIN,
    HARDWARE_PLUGIN,
    OBJECT_LINK,
    attach_link,
    commanded_finger_joints,
    gazebo_urdf,
    mimic_joints,
)
from cliport_ros.gazebo.world import camera_topic, world_sdf
from cliport_ros.perception.config import CameraConfig, config_dir, load_perception_config

REPO = Path(__file__).resolve().parents[1]
CAMERAS = load_perception_config("cameras_ravens.yaml")
BLOCKS_TASK = "put-block-in-bowl-seen-colors"
# What gazebo.launch.py needs from outside the package: each must be a dependency in package.xml.
GAZEBO_DEPENDENCIES = {"ros_gz_sim", "ros_gz_bridge", "ros_gz_interfaces", "gz_ros2_control", "controller_manager",
                       "robot_state_publisher", "joint_state_broadcaster", "joint_trajectory_controller",
                       "position_controllers", "launch", "launch_ros", "ament_index_python"}


def _controllers() -> dict:
    return yaml.safe_load((config_dir() / CONTROLLERS_YAML).read_text())


def _package_dependencies() -> set[str]:
    root = ET.parse(REPO / "package.xml").getroot()
    return {e.text for e in root if e.tag in ("depend", "exec_depend")}


@pytest.fixture(scope="module")
def blocks_scene(tmp_path_factory):
    from cliport_ros.gazebo.scene import export_scene

    return export_scene(BLOCKS_TASK, 10001, "ur5", tmp_path_factory.mktemp("scene"), config_dir() / CONTROLLERS_YAML)


# -- robot descriptions -------------------------------------------------------------------------------------
@pytest.mark.parametrize("arm", sorted(ARMS))
def test_gazebo_urdf_keeps_the_profiles_kinematics_and_tool_frame(arm: str, tmp_path: Path):
    """Same joints in the same order and the same tool pose at home as the executor's model of the arm."""
    from cliport_ros.execution.kinematics import ArmKinematics

    profile = arm_profile(arm)
    path = tmp_path / "robot.urdf"
    path.write_text(gazebo_urdf(profile, "/tmp/controllers.yaml", ("object_0",)))
    executor = ArmKinematics.from_profile(profile)
    gazebo = ArmKinematics(str(path), profile.tool_link, executor.joint_names)
    assert gazebo.joint_names == executor.joint_names
    home = np.array(profile.home)
    pos_e, rot_e = executor.fk(home)
    pos_g, rot_g = gazebo.fk(home)
    np.testing.assert_allclose(pos_g, pos_e, atol=1e-9)
    np.testing.assert_allclose(rot_g, rot_e, atol=1e-9)


@pytest.mark.parametrize("arm", sorted(ARMS))
def test_gazebo_joint_limits_keep_within_the_profiles_and_contain_home(arm: str):
    profile = arm_profile(arm)
    robot = ET.fromstring(gazebo_urdf(profile, "/tmp/controllers.yaml"))
    source = {j.get("name"): j.find("limit") for j in ET.parse(profile.urdf).getroot().findall("joint")}
    arm_names = [n for n in source if source[n] is not None and n not in profile.finger_joints]
    for k, name in enumerate(arm_names):
        limit = robot.find(f"joint[@name='{name}']/limit")
        lower, upper, velocity = (float(limit.get(key)) for key in ("lower", "upper", "velocity"))
        assert float(source[name].get("lower")) - 1e-6 <= lower < upper <= float(source[name].get("upper")) + 1e-6
        if profile.lower:
            assert lower >= profile.lower[k] - 1e-6 and upper <= profile.upper[k] + 1e-6
        if profile.max_velocity:
            assert velocity <= profile.max_velocity[k] + 1e-6
        assert lower <= profile.home[k] <= upper, f"{arm} home outside Gazebo's limits at {name}"


@pytest.mark.parametrize("arm", sorted(ARMS))
def test_ros2_control_block_commands_every_joint_by_position_from_home(arm: str):
    profile = arm_profile(arm)
    robot = ET.fromstring(gazebo_urdf(profile, "/abs/controllers.yaml"))
    control = robot.find("ros2_control")
    assert control.find("hardware/plugin").text == HARDWARE_PLUGIN
    movable = [j.get("name") for j in robot.findall("joint") if j.get("type") != "fixed"]
    assert [j.get("name") for j in control.findall("joint")] == movable
    initial = {j.get("name"): float(j.find("state_interface[@name='position']/param[@name='initial_value']").text)
               for j in control.findall("joint")}
    mimics = mimic_joints(profile)
    for joint in control.findall("joint"):
        commands = [] if joint.get("name") in mimics else ["position"]  # a mimic joint follows its leader
        assert [c.get("name") for c in joint.findall("command_interface")] == commands
        assert [s.get("name") for s in joint.findall("state_interface")] == ["position", "velocity"]
    arm_joints = [n for n in movable if n not in profile.finger_joints]
    np.testing.assert_allclose([initial[n] for n in arm_joints], profile.home, atol=1e-5)
    plugin = robot.find(f"gazebo/plugin[@filename='{CONTROL_PLUGIN[0]}']")
    assert plugin.get("name") == CONTROL_PLUGIN[1] and plugin.find("parameters").text == "/abs/controllers.yaml"


@pytest.mark.parametrize("arm", sorted(ARMS))
def test_robot_stands_on_a_world_link_and_every_mesh_is_an_existing_absolute_file(arm: str):
    robot = ET.fromstring(gazebo_urdf(arm_profile(arm), "/tmp/c.yaml"))
    world_joint = robot.find("joint[@name='world_joint']")
    assert world_joint.find("parent").get("link") == "world" and robot.find("link[@name='world']") is not None
    for mesh in robot.iter("mesh"):
        uri = mesh.get("filename")
        assert uri.startswith("file:///") and Path(uri.removeprefix("file://")).is_file(), uri


@pytest.mark.parametrize("arm", sorted(ARMS))
def test_each_object_gets_a_detachable_joint_on_the_tool_and_contact_links_are_kept_with_sensors(arm: str):
    profile = arm_profile(arm)
    robot = ET.fromstring(gazebo_urdf(profile, "/tmp/c.yaml", ("object_1", "object_4")))
    joints = robot.findall("gazebo/plugin[@name='gz::sim::systems::DetachableJoint']")
    assert [j.find("child_model").text for j in joints] == ["object_1", "object_4"]
    parent = attach_link(profile)
    assert robot.find(f"link[@name='{parent}']") is not None
    for joint in joints:
        model = joint.find("child_model").text
        assert joint.find("parent_link").text == parent and joint.find("child_link").text == OBJECT_LINK
        assert joint.find("attach_topic").text == gripper.attach_topic(model)
        assert joint.find("detach_topic").text == gripper.detach_topic(model)
    preserved = {g.get("reference") for g in robot.findall("gazebo") if g.find("preserveFixedJoint") is not None}
    fixed_into = {j.find("child").get("link"): j.get("name") for j in robot.findall("joint")
                  if j.get("type") == "fixed"}
    for link in {parent, *profile.contact_links}:
        assert link not in fixed_into or fixed_into[link] in preserved, f"{link} would be merged into its parent"
    for link in profile.contact_links:
        sensor = robot.find(f"gazebo[@reference='{link}']/sensor[@type='contact']")
        assert sensor.find("contact/topic").text == gripper.contact_topic(link)
        assert robot.find(f"link[@name='{link}']/collision") is not None


@pytest.mark.parametrize("arm", sorted(ARMS))
def test_contact_sensors_name_their_topic_where_gz_sims_contact_system_reads_it(arm: str):
    """gz-sim's Contact system takes the topic from <contact><topic> and ignores <sensor><topic>; the
    collision it names is the one Gazebo's URDF conversion makes (<link>_collision)."""
    profile = arm_profile(arm)
    robot = ET.fromstring(gazebo_urdf(profile, "/tmp/c.yaml"))
    sensors = robot.findall("gazebo/sensor[@type='contact']")
    assert len(sensors) == len(profile.contact_links)
    for gazebo in robot.findall("gazebo[@reference]"):
        sensor = gazebo.find("sensor[@type='contact']")
        if sensor is None:
            continue
        link = gazebo.get("reference")
        assert sensor.find("topic") is None, f"{link}: <sensor><topic> is not where the Contact system looks"
        assert sensor.find("contact/topic").text == gripper.contact_topic(link)
        assert sensor.find("contact/collision").text == f"{link}_collision"


@pytest.mark.parametrize("arm", sorted(ARMS))
def test_a_mimic_joint_has_no_command_interface_and_only_the_leading_fingers_are_commanded(arm: str):
    """ros2_control (Jazzy on) refuses a mimic joint with a command interface ("Activated mimic joints
    cannot have command interfaces"); the finger controller must command only the joints that lead."""
    profile = arm_profile(arm)
    mimics = mimic_joints(profile)
    robot = ET.fromstring(gazebo_urdf(profile, "/tmp/c.yaml"))
    for name in mimics:
        joint = robot.find(f"ros2_control/joint[@name='{name}']")
        assert joint is not None and joint.find("command_interface") is None, name
        assert mimics[name] in commanded_finger_joints(profile) or mimics[name] not in profile.finger_joints
    if profile.finger_joints:
        assert _controllers()[gripper.FINGER_CONTROLLER]["ros__parameters"]["joints"] == \
            list(commanded_finger_joints(profile))
    if arm == "franka":  # the Panda URDF's second finger mimics the first
        assert mimics == {"panda_finger_joint2": "panda_finger_joint1"}


def _kept_links(robot: ET.Element) -> set[str]:
    """Links Gazebo's URDF conversion keeps as links: the root (on the world link), the child of every
    movable joint and of every fixed joint marked preserveFixedJoint; other fixed children are lumped."""
    preserved = {g.get("reference") for g in robot.findall("gazebo") if g.find("preserveFixedJoint") is not None}
    kept = set()
    for joint in robot.findall("joint"):
        child, parent = joint.find("child").get("link"), joint.find("parent").get("link")
        if joint.get("type") != "fixed" or joint.get("name") in preserved or parent == "world":
            kept.add(child)
    return kept


@pytest.mark.parametrize("arm", sorted(ARMS))
def test_every_link_gazebo_keeps_has_a_mass_and_an_inertia_so_none_is_dropped(arm: str):
    """sdformat drops a kept link with no <inertial> or zero mass ("is not modeled in sdf"), and with it
    every joint below: the tool, the fingers or the slots' parent would vanish."""
    profile = arm_profile(arm)
    robot = ET.fromstring(gazebo_urdf(profile, "/tmp/c.yaml", ("object_0",)))
    kept = _kept_links(robot)
    assert {attach_link(profile), *profile.contact_links} <= kept
    for name in kept:
        inertial = robot.find(f"link[@name='{name}']/inertial")
        assert inertial is not None, f"{name} has no <inertial>"
        assert float(inertial.find("mass").get("value")) > 0, f"{name} has no mass"
        inertia = inertial.find("inertia")
        assert all(float(inertia.get(k)) > 0 for k in ("ixx", "iyy", "izz")), f"{name}: zero inertia"
    assert robot.find("link[@name='world']/inertial") is None  # the world link is Gazebo's world itself


def test_a_spatula_has_no_gazebo_gripper():
    with pytest.raises(ValueError, match="no gripper"):
        attach_link(arm_profile("ur5", "spatula"))


# -- controllers ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("arm", sorted(ARMS))
def test_the_arms_trajectory_controller_is_declared_with_the_urdfs_joints_and_a_constraint_each(arm: str):
    from cliport_ros.gazebo.description import arm_joints

    profile = arm_profile(arm)
    controllers = _controllers()
    manager = controllers["controller_manager"]["ros__parameters"]
    assert manager["joint_state_broadcaster"]["type"] == "joint_state_broadcaster/JointStateBroadcaster"
    assert manager[profile.controller]["type"] == "joint_trajectory_controller/JointTrajectoryController"
    params = controllers[profile.controller]["ros__parameters"]
    assert params["joints"] == arm_joints(profile)
    assert params["command_interfaces"] == ["position"] and params["state_interfaces"] == ["position", "velocity"]
    for joint in params["joints"]:
        assert params["constraints"][joint]["goal"] > 0
    if profile.finger_joints:
        assert controllers[gripper.FINGER_CONTROLLER]["ros__parameters"]["joints"] == \
            list(commanded_finger_joints(profile))
        assert manager[gripper.FINGER_CONTROLLER]["type"] == "position_controllers/JointGroupPositionController"


def test_every_declared_controller_has_joints_of_a_profile():
    from cliport_ros.gazebo.description import arm_joints

    controllers = _controllers()
    known = [arm_joints(p) for p in ARMS.values()] + [list(commanded_finger_joints(p)) for p in ARMS.values()]
    for name in controllers["controller_manager"]["ros__parameters"]:
        if name in controllers:
            assert controllers[name]["ros__parameters"]["joints"] in known, name


# Parameters the controllers declare (ros2_controllers, Jazzy on: joint_trajectory_controller_parameters.yaml,
# forward_command_controller_parameters.yaml); anything else in the YAML is silently ignored.
TRAJECTORY_PARAMETERS = {"joints", "command_joints", "command_interfaces", "state_interfaces", "speed_scaling",
                         "allow_partial_joints_goal", "interpolate_from_desired_state",
                         "allow_integration_in_goal_trajectories",
                         "set_last_command_interface_value_as_state_on_activation", "action_monitor_rate",
                         "interpolation_method", "allow_nonzero_velocity_at_trajectory_end", "cmd_timeout", "gains",
                         "constraints"}
CONSTRAINT_PARAMETERS = {"stopped_velocity_tolerance", "goal_time", "decelerate_on_cancel"}
JOINT_CONSTRAINT_PARAMETERS = {"trajectory", "goal", "max_deceleration_on_cancel"}
FORWARD_PARAMETERS = {"joints", "interface_name"}


def test_controller_parameters_are_ones_the_controllers_declare():
    controllers = _controllers()
    manager = controllers["controller_manager"]["ros__parameters"]
    assert isinstance(manager["update_rate"], int) and manager["update_rate"] > 0
    for name, declared in manager.items():
        if not isinstance(declared, dict):
            continue
        params = controllers.get(name, {}).get("ros__parameters", {})
        if declared["type"] == "joint_trajectory_controller/JointTrajectoryController":
            assert set(params) <= TRAJECTORY_PARAMETERS, f"{name}: {set(params) - TRAJECTORY_PARAMETERS}"
            constraints = params["constraints"]
            assert set(constraints) - set(params["joints"]) <= CONSTRAINT_PARAMETERS, name
            for joint in params["joints"]:
                assert set(constraints[joint]) <= JOINT_CONSTRAINT_PARAMETERS, f"{name}.{joint}"
        elif declared["type"] == "position_controllers/JointGroupPositionController":
            assert set(params) <= FORWARD_PARAMETERS, f"{name}: {set(params) - FORWARD_PARAMETERS}"


# -- world and cameras ---------------------------------------------------------------------------------------
# Gazebo Harmonic's system libraries and classes, as gz-sim names them (GZ_ADD_PLUGIN_ALIAS).
WORLD_SYSTEMS = {"physics": ("gz-sim-physics-system", "gz::sim::systems::Physics"),
                 "spawning": ("gz-sim-user-commands-system", "gz::sim::systems::UserCommands"),
                 "state": ("gz-sim-scene-broadcaster-system", "gz::sim::systems::SceneBroadcaster"),
                 "rendering sensors": ("gz-sim-sensors-system", "gz::sim::systems::Sensors"),
                 "contact sensors": ("gz-sim-contact-system", "gz::sim::systems::Contact")}
SENSOR_SYSTEM = {"rgbd_camera": "rendering sensors", "camera": "rendering sensors", "depth_camera": "rendering sensors",
                 "contact": "contact sensors"}


def _sensors(world_text: str) -> dict[str, tuple[ET.Element, ET.Element]]:
    world = ET.fromstring(world_text).find("world")
    return {s.get("name"): (m, s) for m in world.findall("model") for s in m.iter("sensor")}


def test_world_has_one_rgbd_camera_per_configured_camera_with_its_intrinsics():
    sensors = _sensors(world_sdf(CAMERAS))
    assert set(sensors) == {c.name for c in CAMERAS.cameras}
    for cam in CAMERAS.cameras:
        _, sensor = sensors[cam.name]
        assert sensor.get("type") == "rgbd_camera" and sensor.find("topic").text == camera_topic(cam.name)
        width, height = int(sensor.find("camera/image/width").text), int(sensor.find("camera/image/height").text)
        hfov = float(sensor.find("camera/horizontal_fov").text)
        assert (width, height) == (cam.width, cam.height)
        assert width / (2 * math.tan(hfov / 2)) == pytest.approx(cam.fx, rel=1e-6)  # Gazebo's fx
        assert float(sensor.find("camera/lens/intrinsics/cy").text) == pytest.approx(cam.cy)


def test_each_camera_looks_where_the_yaml_says_its_optical_axis_points():
    sensors = _sensors(world_sdf(CAMERAS))
    for cam in CAMERAS.cameras:
        model, _ = sensors[cam.name]
        pose = [float(v) for v in model.find("pose").text.split()]
        np.testing.assert_allclose(pose[:3], cam.position, atol=1e-9)
        rot = Rotation.from_euler("xyz", pose[3:]).as_matrix()
        optical = cam.pose.rotation
        np.testing.assert_allclose(rot[:, 0], optical[:, 2], atol=1e-6)  # Gazebo looks along +x
        np.testing.assert_allclose(rot[:, 2], -optical[:, 1], atol=1e-6)  # image up is +z


def test_world_loads_the_system_every_sensor_of_the_world_and_the_robot_needs(blocks_scene):
    """No system, no data: a world without Sensors (ogre2 for rgbd cameras) renders nothing, without
    Contact no contact sensor publishes, without UserCommands ``ros_gz_sim create`` cannot spawn the robot."""
    world = ET.parse(blocks_scene.world).getroot().find("world")
    plugins = {(p.get("filename"), p.get("name")): p for p in world.findall("plugin")}
    for need in ("physics", "spawning", "state"):
        assert WORLD_SYSTEMS[need] in plugins, need
    robot = ET.parse(blocks_scene.robot).getroot()
    sensor_types = {s.get("type") for s in world.iter("sensor")} | {s.get("type") for s in robot.iter("sensor")}
    assert {"rgbd_camera", "contact"} <= sensor_types
    for kind in sensor_types:
        system = WORLD_SYSTEMS[SENSOR_SYSTEM[kind]]
        assert system in plugins, f"{kind} sensors need {system}"
    sensors = plugins[WORLD_SYSTEMS["rendering sensors"]]
    assert sensors.find("render_engine").text == "ogre2"


def test_each_camera_stamps_its_images_with_the_optical_frame_perception_looks_up():
    """gz-sensors puts <gz_frame_id> in the header of image, depth and camera_info (no <optical_frame_id>
    given); perception_node takes the camera's pose for that frame."""
    sensors = _sensors(world_sdf(CAMERAS))
    for cam in CAMERAS.cameras:
        _, sensor = sensors[cam.name]
        assert cam.frame_id and sensor.find("gz_frame_id").text == cam.frame_id
        assert sensor.find("camera/optical_frame_id") is None


def test_a_camera_gazebo_cannot_render_is_refused():
    skewed = CameraConfig(name="odd", fx=450.0, fy=460.0)
    with pytest.raises(ValueError, match="square pixels"):
        world_sdf(type(CAMERAS)(cameras=(skewed,)))


def test_exported_scene_parses_and_places_every_object_of_the_task(blocks_scene):
    world = ET.parse(blocks_scene.world).getroot().find("world")
    includes = {i.find("name").text: i for i in world.findall("include")}
    models = blocks_scene.directory / "models"
    assert "table" in includes and set(blocks_scene.objects) <= set(includes)
    for name, include in includes.items():
        assert include.find("uri").text == f"model://{name}"
        model = ET.parse(models / name / "model.sdf").getroot().find("model")
        assert model.get("name") == name and model.find(f"link[@name='{OBJECT_LINK}']") is not None
        ET.parse(models / name / "model.config")
    for name in blocks_scene.objects:  # graspable: dynamic, with a collision and the block's colour
        model = ET.parse(models / name / "model.sdf").getroot().find("model")
        assert model.find("static").text == "false"
        assert model.find("link/collision/geometry/box/size").text == "0.04 0.04 0.04"
        z = float(includes[name].find("pose").text.split()[2])
        assert z == pytest.approx(0.02, abs=2e-3)  # resting on the table


def test_exported_scene_matches_the_simulators_scene_for_that_seed(blocks_scene):
    """The exported poses and colours are the PyBullet task's for the same seed."""
    from cliport_ros.sim.scene import TabletopSim
    from cliport_ros.sim.tasks import make_task

    sim = TabletopSim()
    try:
        task = make_task(BLOCKS_TASK)
        task.reset(sim, 10001)
        language = task.language(sim)
        first = sim.objects[0]
        xyz = sim.bullet.getBasePositionAndOrientation(first)[0]
        rgba = sim.bullet.getVisualShapeData(first)[0][7]
    finally:
        sim.close()
    assert blocks_scene.instruction == language
    world = ET.parse(blocks_scene.world).getroot().find("world")
    pose = next(i for i in world.findall("include") if i.find("name").text == "object_0").find("pose").text
    np.testing.assert_allclose([float(v) for v in pose.split()[:3]], xyz, atol=1e-6)
    model = ET.parse(blocks_scene.directory / "models/object_0/model.sdf").getroot()
    colour = [float(v) for v in model.find(".//material/diffuse").text.split()]
    np.testing.assert_allclose(colour, rgba, atol=1e-3)


def test_exported_robot_has_a_slot_for_exactly_the_graspable_objects(blocks_scene):
    robot = ET.parse(blocks_scene.robot).getroot()
    children = [j.find("child_model").text for j in robot.iter("plugin") if j.find("child_model") is not None]
    assert children == list(blocks_scene.objects)
    manifest = yaml.safe_load(blocks_scene.manifest.read_text())
    assert manifest["objects"] == list(blocks_scene.objects) and manifest["arm"] == "ur5"


def test_mesh_shapes_export_as_closed_convex_pieces(tmp_path: Path):
    from scipy.spatial import ConvexHull

    from cliport_ros.gazebo.scene import export_scene

    scene = export_scene("packing-shapes", 10001, "ur5", tmp_path, "/tmp/c.yaml")
    pieces = sorted((tmp_path / "models").glob("*/meshes/*.obj"))
    assert pieces and scene.objects
    for path in pieces:
        lines = path.read_text().splitlines()
        vertices = np.array([[float(v) for v in line.split()[1:]] for line in lines if line.startswith("v ")])
        faces = [[int(i) - 1 for i in line.split()[1:]] for line in lines if line.startswith("f ")]
        edges: dict[tuple[int, int], int] = {}
        for face in faces:  # closed: every edge in exactly two triangles
            for a, b in zip(face, face[1:] + face[:1], strict=True):
                edges[(min(a, b), max(a, b))] = edges.get((min(a, b), max(a, b)), 0) + 1
        assert set(edges.values()) == {2}
        assert np.ptp(vertices[:, 2]) == pytest.approx(0.02, abs=1e-6)  # the shapes' thickness
        volume = sum(np.dot(vertices[a], np.cross(vertices[b], vertices[c])) for a, b, c in faces) / 6
        assert volume == pytest.approx(ConvexHull(vertices).volume, rel=1e-6)  # outward-facing triangles


@pytest.mark.parametrize("task, message", [("separating-piles-seen-colors", "spatula"), ("align-rope", "rope")])
def test_scenes_gazebo_cannot_hold_are_refused_by_name(task: str, message: str, tmp_path: Path):
    from cliport_ros.gazebo.scene import export_scene

    with pytest.raises(ValueError, match=message):
        export_scene(task, 10001, "ur5", tmp_path, "/tmp/c.yaml")


# -- bridge ---------------------------------------------------------------------------------------------------
PERCEPTION_TYPES = {"color_topic": ("sensor_msgs/msg/Image", "image"),
                    "depth_topic": ("sensor_msgs/msg/Image", "depth_image"),
                    "info_topic": ("sensor_msgs/msg/CameraInfo", "camera_info")}


def test_bridge_maps_clock_and_each_cameras_streams_onto_perceptions_topics_with_their_types():
    entries = yaml.safe_load((config_dir() / BRIDGE_YAML).read_text())
    by_ros = {e["ros_topic_name"]: e for e in entries}
    assert len(by_ros) == len(entries)
    assert by_ros.pop("/clock")["ros_type_name"] == "rosgraph_msgs/msg/Clock"
    expected = {}
    for cam in CAMERAS.cameras:
        for key, (ros_type, suffix) in PERCEPTION_TYPES.items():
            expected[getattr(cam, key)] = (ros_type, f"{camera_topic(cam.name)}/{suffix}")
    assert set(by_ros) == set(expected), "every bridged camera topic is one perception_node reads, and all are"
    gz_types = {"sensor_msgs/msg/Image": "gz.msgs.Image", "sensor_msgs/msg/CameraInfo": "gz.msgs.CameraInfo"}
    for topic, (ros_type, gz_topic) in expected.items():
        entry = by_ros[topic]
        assert (entry["ros_type_name"], entry["gz_topic_name"], entry["direction"]) == (ros_type, gz_topic, "GZ_TO_ROS")
        assert entry["gz_type_name"] == gz_types[ros_type]


RGBD_OUTPUTS = ("image", "depth_image", "camera_info", "points")  # gz-sensors RgbdCameraSensor: <topic>/...


def test_every_bridged_gz_topic_is_one_a_world_sensor_publishes(blocks_scene):
    """Read each rgbd_camera's <topic> from the world the launch file starts: the bridge's gz side must be
    one of what that sensor advertises, and every camera's image, depth and camera_info must be bridged."""
    world = ET.parse(blocks_scene.world).getroot().find("world")
    published = {f"{s.find('topic').text}/{out}" for s in world.iter("sensor") if s.get("type") == "rgbd_camera"
                 for out in RGBD_OUTPUTS} | {"/clock"}
    entries = yaml.safe_load((config_dir() / BRIDGE_YAML).read_text())
    bridged = {e["gz_topic_name"] for e in entries}
    assert bridged <= published, f"bridged but never published: {bridged - published}"
    for sensor in (s for s in world.iter("sensor") if s.get("type") == "rgbd_camera"):
        for out in ("image", "depth_image", "camera_info"):
            assert f"{sensor.find('topic').text}/{out}" in bridged
    robot = ET.parse(blocks_scene.robot).getroot()
    contacts = {s.find("contact/topic").text for s in robot.iter("sensor") if s.get("type") == "contact"}
    gripper_entries = yaml.safe_load(blocks_scene.bridge.read_text())
    assert {e["gz_topic_name"] for e in gripper_entries if e["gz_type_name"] == "gz.msgs.Contacts"} == contacts
    slots = [p for p in robot.iter("plugin") if p.get("name") == "gz::sim::systems::DetachableJoint"]
    slot_topics = {p.find(key).text for p in slots for key in ("attach_topic", "detach_topic", "output_topic")}
    assert {e["gz_topic_name"] for e in gripper_entries if e["gz_type_name"] != "gz.msgs.Contacts"} == slot_topics


def test_perception_node_subscribes_to_each_camera_topic_with_the_bridged_ros_type():
    """Read perception_node's subscriptions (type, camera topic field) from its source: the types the
    bridge publishes must be the ones it subscribes with."""
    tree = ast.parse((REPO / "cliport_ros/nodes/perception_node.py").read_text())
    subscribed = {}
    for call in (n for n in ast.walk(tree) if isinstance(n, ast.Call) and _call_name(n) == "create_subscription"):
        kind, topic = call.args[0], call.args[1]
        if isinstance(topic, ast.Attribute) and topic.attr in PERCEPTION_TYPES:
            subscribed[topic.attr] = kind.id
    assert subscribed == {key: ros_type.rsplit("/", 1)[1] for key, (ros_type, _) in PERCEPTION_TYPES.items()}


def test_gripper_bridge_covers_every_topic_the_gripper_node_uses(blocks_scene):
    entries = yaml.safe_load(blocks_scene.bridge.read_text())
    topics = {e["ros_topic_name"]: e for e in entries}
    profile = arm_profile("ur5")
    for link in profile.contact_links:
        assert topics[gripper.contact_topic(link)]["ros_type_name"] == "ros_gz_interfaces/msg/Contacts"
    for model in blocks_scene.objects:
        assert topics[gripper.attach_topic(model)]["direction"] == "ROS_TO_GZ"
        assert topics[gripper.detach_topic(model)]["gz_type_name"] == "gz.msgs.Empty"
        assert topics[gripper.state_topic(model)]["ros_type_name"] == "std_msgs/msg/String"
    assert len(topics) == len(profile.contact_links) + 3 * len(blocks_scene.objects)


# -- gripper logic ---------------------------------------------------------------------------------------------
def test_touched_object_is_the_graspable_model_on_the_other_side_of_a_robot_contact():
    contacts = [("table::body::collision_0", "object_2::body::collision_0"),  # not the robot's
                ("robot::suction_link::suction_link_collision", "table::body::collision_0"),  # not graspable
                ("object_3::body::collision_0", "robot::suction_link::suction_link_collision")]
    assert gripper.touched_object(contacts, ["object_2", "object_3"]) == "object_3"
    assert gripper.touched_object(contacts[:2], ["object_2", "object_3"]) is None


def test_gripper_state_holds_one_object_and_detaches_the_rest_until_confirmed():
    state = gripper.GripperState(("object_0", "object_1"))
    assert state.to_detach() == ["object_0", "object_1"]  # all may be attached from start-up
    state.on_state("object_0", "detached")
    state.on_state("object_1", "detached")
    assert state.to_detach() == []
    assert state.grip("object_1") == "object_1" and state.to_detach() == []
    assert state.grip("object_0") is None  # already holding one
    assert state.release() == "object_1" and state.release() is None
    assert state.to_detach() == ["object_1"]
    state.on_state("object_1", "detached")
    state.on_state("object_0", "attached")  # attached without being asked
    assert state.to_detach() == ["object_0"]


def test_gripper_is_ready_only_once_every_slot_welded_at_start_up_has_reported_detached():
    """Gazebo welds every slot's object to the tool on load; until each has let go, a grip is refused (and
    gz_gripper_node offers no gripper/set, so the executor moves nothing)."""
    state = gripper.GripperState(("object_0", "object_1"))
    assert not state.ready and state.grip("object_0") is None and state.held is None
    state.on_state("object_0", "detached")
    state.on_state("object_1", "attached")  # the start-up weld's own report arriving late changes nothing
    assert not state.ready and state.grip("object_0") is None
    state.on_state("object_1", "detached")
    assert state.ready and state.grip("object_0") == "object_0"
    state.release()
    assert state.ready and state.to_detach() == ["object_0"]  # a release awaits its own confirmation, still ready
    assert gripper.GripperState(()).ready  # no objects: nothing welded


def test_gz_gripper_node_offers_its_service_only_through_the_readiness_check():
    """The node is plumbing (ros_gz_interfaces is not installable here): read it. gripper/set is created in
    one place, behind ``state.ready``; detaches wait for the bridge to carry both directions."""
    source = (REPO / "cliport_ros/nodes/gz_gripper_node.py").read_text()
    tree = ast.parse(source)
    functions = {f.name: f for f in ast.walk(tree) if isinstance(f, ast.FunctionDef)}
    creators = [name for name, f in functions.items()
                if any(isinstance(c, ast.Call) and _call_name(c) == "create_service" for c in ast.walk(f))]
    assert creators == ["_offer_when_ready"]
    guard = ast.unparse(functions["_offer_when_ready"])
    assert "self.state.ready" in guard
    detach = ast.unparse(functions["_detach_unconfirmed"])
    assert "get_subscription_count" in detach and "get_publisher_count" in detach


# -- launch file ------------------------------------------------------------------------------------------------
LAUNCH = REPO / "launch" / "gazebo.launch.py"


def _call_name(call: ast.Call) -> str | None:
    return getattr(call.func, "id", getattr(call.func, "attr", None))


def _constant(call: ast.Call, key: str) -> str | None:
    for kw in call.keywords:
        if kw.arg == key and isinstance(kw.value, ast.Constant):
            return kw.value.value
    return None


def test_gazebo_launch_names_only_existing_or_declared_packages_executables_and_files():
    tree = ast.parse(LAUNCH.read_text())
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)]
    dependencies = _package_dependencies()
    assert GAZEBO_DEPENDENCIES <= dependencies, f"missing in package.xml: {GAZEBO_DEPENDENCIES - dependencies}"
    installed = (REPO / "CMakeLists.txt").read_text()
    nodes = [c for c in calls if _call_name(c) == "Node"]
    for node in nodes:
        package, executable = _constant(node, "package"), _constant(node, "executable")
        if package == "cliport_ros":
            assert (REPO / "scripts" / executable).is_file() and f"scripts/{executable}" in installed
        else:
            assert package in dependencies, package
    started = {(_constant(n, "package"), _constant(n, "executable")) for n in nodes}
    assert {("ros_gz_sim", "create"), ("controller_manager", "spawner"), ("ros_gz_bridge", "parameter_bridge"),
            ("robot_state_publisher", "robot_state_publisher"), ("cliport_ros", "perception_node"),
            ("cliport_ros", "policy_node"), ("cliport_ros", "executor_node"),
            ("cliport_ros", "gz_gripper_node")} <= started
    for call in calls:
        if _call_name(call) == "get_package_share_directory":
            assert call.args[0].value in dependencies | {"cliport_ros"}
    for name in {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and str(n.value).endswith(".yaml")}:
        assert (config_dir() / name).is_file(), name
    from cliport_ros.ros.ros_env import FASTDDS_PROFILE

    for name in (CONTROLLERS_YAML, BRIDGE_YAML, FASTDDS_PROFILE):
        assert (config_dir() / name).is_file()
    assert "gz_sim.launch.py" in LAUNCH.read_text()  # ros_gz_sim's, a dependency


def test_package_xml_lists_every_package_the_gazebo_files_load(blocks_scene):
    """Packages named inside the files rather than the launch file: controller types, the hardware and
    Gazebo plugins, and the message types the bridges convert (each resolved by name at run time)."""
    dependencies = _package_dependencies() | {"cliport_ros"}
    named = {HARDWARE_PLUGIN.split("/")[0], CONTROL_PLUGIN[1].split("::")[0]}
    manager = _controllers()["controller_manager"]["ros__parameters"]
    named |= {v["type"].split("/")[0] for v in manager.values() if isinstance(v, dict)}
    for bridge in (config_dir() / BRIDGE_YAML, blocks_scene.bridge):
        named |= {e["ros_type_name"].split("/")[0] for e in yaml.safe_load(bridge.read_text())}
    assert named <= dependencies, f"missing in package.xml: {named - dependencies}"


def test_gazebo_launch_declares_every_argument_it_reads_with_a_description():
    tree = ast.parse(LAUNCH.read_text())
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)]
    declared = {c.args[0].value: c for c in calls if _call_name(c) == "DeclareLaunchArgument"}
    assert {"arm", "task", "seed", "policy", "gz_args", "domain_id"} <= set(declared)
    for name, call in declared.items():
        assert _constant(call, "description"), name
    read = {c.args[0].value for c in calls if _call_name(c) == "LaunchConfiguration"}
    assert read <= set(declared)
    assert "use_sim_time" in LAUNCH.read_text() and "ROS_DOMAIN_ID" in LAUNCH.read_text()


def test_gazebo_launch_passes_node_parameters_that_exist():
    """The parameters the launch file sets on our nodes are fields of their config dataclasses."""
    import dataclasses

    from cliport_ros.decision.config import PolicyNodeConfig
    from cliport_ros.execution.config import ExecutorNodeConfig
    from cliport_ros.gazebo.config import GazeboGripperConfig

    fields = {"policy_node": PolicyNodeConfig, "executor_node": ExecutorNodeConfig,
              "gz_gripper_node": GazeboGripperConfig}
    tree = ast.parse(LAUNCH.read_text())
    for node in (c for c in ast.walk(tree) if isinstance(c, ast.Call) and _call_name(c) == "Node"):
        config = fields.get(_constant(node, "executable"))
        if config is None:
            continue
        names = {f.name for f in dataclasses.fields(config)} | {"use_sim_time"}
        for d in (n for n in ast.walk(node) if isinstance(n, ast.Dict)):
            keys = {k.value for k in d.keys if isinstance(k, ast.Constant)}
            assert keys <= names, f"{_constant(node, 'executable')}: {keys - names}"


def test_export_scene_command_writes_the_scene(tmp_path: Path):
    from cliport_ros.cli import build_parser

    args = build_parser().parse_args(["export-scene", "--task", "stack-block-pyramid-seq", "--seed", "3",
                                      "--arm", "franka", "--out", str(tmp_path)])
    assert args.func(args) == 0
    manifest = yaml.safe_load((tmp_path / "scene.yaml").read_text())
    assert manifest["task"] == "stack-block-pyramid-seq" and len(manifest["objects"]) == 6
    robot = ET.parse(tmp_path / "robot.urdf").getroot()
    assert robot.find("ros2_control/joint[@name='panda_finger_joint1']") is not None
