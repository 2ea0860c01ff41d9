"""The whole product on a simulated arm: sim_node + perception_node + policy_node + executor_node.

    ros2 launch cliport_ros sim.launch.py
    ros2 launch cliport_ros sim.launch.py arm:=franka policy:=/path/to/checkpoint.pt
    ros2 service call /sim/reset cliport_ros/srv/ResetTask "{task: put-block-in-bowl-seen-colors, seed: 10001}"
    ros2 service call /instruct cliport_ros/srv/Instruct "{instruction: 'put the red blocks in a green bowl'}"
"""

import os

from ament_index_python.packages import get_package_share_directory
from launch.actions import DeclareLaunchArgument
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node

from launch import LaunchDescription


def generate_launch_description() -> LaunchDescription:
    config = os.path.join(get_package_share_directory("cliport_ros"), "config")
    params = os.path.join(config, "sim.yaml")
    cameras = os.path.join(config, "cameras_ravens.yaml")
    arm = LaunchConfiguration("arm")
    return LaunchDescription(
        [
            DeclareLaunchArgument("arm", default_value="ur5", description="simulated arm: ur5 (suction) or franka"),
            DeclareLaunchArgument("policy", default_value="oracle",
                                  description="checkpoint path, or oracle (the simulator's scripted expert)"),
            DeclareLaunchArgument("real_time_factor", default_value="1.0",
                                  description="simulated seconds per wall-clock second"),
            Node(package="cliport_ros", executable="sim_node", name="sim_node", output="screen",
                 parameters=[params, {"arm": arm, "real_time_factor": LaunchConfiguration("real_time_factor")}]),
            Node(package="cliport_ros", executable="perception_node", name="perception_node", output="screen",
                 parameters=[cameras]),
            Node(package="cliport_ros", executable="policy_node", name="policy_node", output="screen",
                 parameters=[params, {"policy": LaunchConfiguration("policy")}]),
            Node(package="cliport_ros", executable="executor_node", name="executor_node", output="screen",
                 parameters=[params, {"arm": arm}]),
        ]
    )
