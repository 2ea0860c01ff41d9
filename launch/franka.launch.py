"""A real Franka FR3/Panda with its two-finger hand: perception_node + policy_node + executor_node, no simulator.

Start the arm's driver first (franka_ros2 (franka.launch.py)) and the RealSense:
    ros2 launch realsense2_camera rs_launch.py align_depth.enable:=true
    ros2 launch cliport_ros franka.launch.py policy:=/path/to/checkpoint.pt
    ros2 service call /instruct cliport_ros/srv/Instruct "{instruction: 'put the red block in the green bowl'}"
"""

import os

from ament_index_python.packages import get_package_share_directory
from launch.actions import DeclareLaunchArgument
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import Node

from cliport_ros.execution.arms import arm_profile
from launch import LaunchDescription


def generate_launch_description() -> LaunchDescription:
    config = os.path.join(get_package_share_directory("cliport_ros"), "config")
    params = os.path.join(config, "franka.yaml")
    return LaunchDescription(
        [
            DeclareLaunchArgument("policy", description="trained CLIPort checkpoint (.pt) to run"),
            DeclareLaunchArgument("cameras", default_value="cameras_realsense_d435.yaml",
                                  description="camera layout YAML in cliport_ros/config (topics, poses, workspace)"),
            DeclareLaunchArgument("controller", default_value=arm_profile("franka").controller,
                                  description="ros2_control joint trajectory controller to command"),
            DeclareLaunchArgument("gripper_service", default_value="gripper/set",
                                  description="std_srvs/SetBool service: true grips, false releases"),
            DeclareLaunchArgument("joint_states", default_value="/joint_states",
                                  description="topic with the arm's sensor_msgs/JointState"),
            Node(package="cliport_ros", executable="perception_node", name="perception_node", output="screen",
                 parameters=[PathJoinSubstitution([config, LaunchConfiguration("cameras")])]),
            Node(package="cliport_ros", executable="policy_node", name="policy_node", output="screen",
                 parameters=[params, {"policy": LaunchConfiguration("policy")}]),
            Node(package="cliport_ros", executable="executor_node", name="executor_node", output="screen",
                 parameters=[params, {"controller": LaunchConfiguration("controller"),
                                      "gripper_service": LaunchConfiguration("gripper_service")}],
                 remappings=[("joint_states", LaunchConfiguration("joint_states"))]),
        ]
    )
