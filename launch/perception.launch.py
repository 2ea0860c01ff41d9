"""Perception alone: RGB-D cameras -> perception_node -> /heightmap.

    ros2 launch cliport_ros perception.launch.py cameras:=cameras_realsense_d435.yaml
"""

import os

from ament_index_python.packages import get_package_share_directory
from launch.actions import DeclareLaunchArgument
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import Node

from launch import LaunchDescription


def generate_launch_description() -> LaunchDescription:
    config = os.path.join(get_package_share_directory("cliport_ros"), "config")
    cameras = LaunchConfiguration("cameras")
    return LaunchDescription(
        [
            DeclareLaunchArgument(
                "cameras",
                default_value="cameras_realsense_d435.yaml",
                description="camera layout YAML in cliport_ros/config (topics, poses, workspace)",
            ),
            Node(
                package="cliport_ros",
                executable="perception_node",
                name="perception_node",
                output="screen",
                parameters=[PathJoinSubstitution([config, cameras])],
            ),
        ]
    )
