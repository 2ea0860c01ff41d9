"""The same stack in Gazebo Sim: a bundled task scene, the arm under gz_ros2_control, three RGB-D cameras,
and perception_node + policy_node + executor_node (with gz_gripper_node as the gripper), on simulated time.

    ros2 launch cliport_ros gazebo.launch.py task:=put-block-in-bowl-seen-colors seed:=10001 arm:=ur5
    ros2 launch cliport_ros gazebo.launch.py gz_args:=-s domain_id:=42      # headless, on ROS domain 42
    ros2 service call /instruct cliport_ros/srv/Instruct "{instruction: 'put the gray blocks in a green bowl'}"

At launch the scene is exported (``cliport export-scene``: world.sdf, models/, robot.urdf,
gripper_bridge.yaml) into ``scene_dir`` (default: a new temporary folder), whose models/ joins
GZ_SIM_RESOURCE_PATH. The controllers are spawned once the robot is in the world.
"""

import tempfile
from pathlib import Path

from ament_index_python.packages import get_package_share_directory
from launch.actions import (
    AppendEnvironmentVariable,
    DeclareLaunchArgument,
    IncludeLaunchDescription,
    LogInfo,
    OpaqueFunction,
    RegisterEventHandler,
    SetEnvironmentVariable,
)
from launch.event_handlers import OnProcessExit
from launch.launch_description_sources import PythonLaunchDescriptionSource
from launch.substitutions import EnvironmentVariable, LaunchConfiguration
from launch_ros.actions import Node

from cliport_ros.execution.arms import arm_profile
from cliport_ros.gazebo.config import BRIDGE_YAML, CONTROLLERS_YAML
from cliport_ros.gazebo.gripper import FINGER_CONTROLLER, ROBOT_MODEL
from cliport_ros.gazebo.scene import export_scene
from cliport_ros.gazebo.world import WORLD_NAME
from cliport_ros.ros.ros_env import FASTDDS_PROFILE
from launch import LaunchDescription

SIM_TIME = {"use_sim_time": True}


def _setup(context):
    """Export the scene the arguments name, then the processes that run it."""
    config = Path(get_package_share_directory("cliport_ros")) / "config"
    arm = LaunchConfiguration("arm").perform(context)
    profile = arm_profile(arm)
    scene_dir = LaunchConfiguration("scene_dir").perform(context) or tempfile.mkdtemp(prefix="cliport_gazebo_")
    task, seed = LaunchConfiguration("task").perform(context), int(LaunchConfiguration("seed").perform(context))
    scene = export_scene(task, seed, arm, scene_dir, config / CONTROLLERS_YAML)
    gz_args = LaunchConfiguration("gz_args").perform(context)
    gz_sim = Path(get_package_share_directory("ros_gz_sim")) / "launch" / "gz_sim.launch.py"
    gazebo = IncludeLaunchDescription(
        PythonLaunchDescriptionSource(str(gz_sim)),
        launch_arguments={"gz_args": f"{gz_args} -r {scene.world}", "on_exit_shutdown": "true"}.items())
    spawn = Node(package="ros_gz_sim", executable="create", output="screen",
                 arguments=["-world", WORLD_NAME, "-topic", "robot_description", "-name", ROBOT_MODEL])
    controllers = ["joint_state_broadcaster", profile.controller]
    if profile.finger_joints:
        controllers.append(FINGER_CONTROLLER)
    spawner = Node(package="controller_manager", executable="spawner", output="screen",
                   arguments=[*controllers, "--controller-manager", "/controller_manager"])
    return [
        LogInfo(msg=f"scene {scene.directory}: {scene.instruction or 'the empty table'}"),
        AppendEnvironmentVariable("GZ_SIM_RESOURCE_PATH", str(scene.directory / "models")),
        gazebo,
        Node(package="robot_state_publisher", executable="robot_state_publisher", output="screen",
             parameters=[{"robot_description": scene.robot.read_text(), **SIM_TIME}]),
        spawn,
        RegisterEventHandler(OnProcessExit(target_action=spawn, on_exit=[spawner])),
        Node(package="ros_gz_bridge", executable="parameter_bridge", name="camera_bridge", output="screen",
             parameters=[{"config_file": str(config / BRIDGE_YAML), **SIM_TIME}]),
        Node(package="ros_gz_bridge", executable="parameter_bridge", name="gripper_bridge", output="screen",
             parameters=[{"config_file": str(scene.bridge), **SIM_TIME}]),
        Node(package="cliport_ros", executable="gz_gripper_node", name="gz_gripper_node", output="screen",
             parameters=[{"arm": arm, "objects": list(scene.objects) or [""], **SIM_TIME}]),
        Node(package="cliport_ros", executable="perception_node", name="perception_node", output="screen",
             parameters=[str(config / "cameras_ravens.yaml"), SIM_TIME]),
        Node(package="cliport_ros", executable="policy_node", name="policy_node", output="screen",
             parameters=[{"policy": LaunchConfiguration("policy").perform(context), **SIM_TIME}]),
        Node(package="cliport_ros", executable="executor_node", name="executor_node", output="screen",
             parameters=[{"arm": arm, **SIM_TIME}]),
    ]


def generate_launch_description() -> LaunchDescription:
    return LaunchDescription([
        DeclareLaunchArgument("arm", default_value="ur5", description="ur5 or ur5e (suction) or franka (hand)"),
        DeclareLaunchArgument("task", default_value="put-block-in-bowl-seen-colors",
                              description='bundled task whose scene to spawn ("" for the empty table)'),
        DeclareLaunchArgument("seed", default_value="10001", description="scene seed (10001: the first test scene)"),
        DeclareLaunchArgument("policy", default_value="shipped",
                              description="shipped (the packaged checkpoint) or a checkpoint path"),
        DeclareLaunchArgument("gz_args", default_value="", description="extra gz sim arguments: -s runs headless"),
        DeclareLaunchArgument("domain_id", default_value=EnvironmentVariable("ROS_DOMAIN_ID", default_value="0"),
                              description="ROS_DOMAIN_ID of every process started here (default: the shell's)"),
        DeclareLaunchArgument("scene_dir", default_value="",
                              description="folder for the exported scene (default: a new temporary folder)"),
        SetEnvironmentVariable("ROS_DOMAIN_ID", LaunchConfiguration("domain_id")),
        # Three 640x480 RGB-D streams between processes need Fast DDS's large-data settings (unless set).
        SetEnvironmentVariable("FASTDDS_DEFAULT_PROFILES_FILE", EnvironmentVariable(
            "FASTDDS_DEFAULT_PROFILES_FILE",
            default_value=str(Path(get_package_share_directory("cliport_ros")) / "config" / FASTDDS_PROFILE))),
        OpaqueFunction(function=_setup),
    ])
