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

from cliport_ros.app.stack import SIM_ARGUMENTS, SIM_NODES
from launch import LaunchDescription


def generate_launch_description() -> LaunchDescription:
    """The nodes and arguments of cliport_ros.app.stack (the description `cliport up` also starts)."""
    config = os.path.join(get_package_share_directory("cliport_ros"), "config")
    arguments = [DeclareLaunchArgument(name, default_value=str(arg.default), description=arg.description)
                 for name, arg in SIM_ARGUMENTS.items()]
    nodes = []
    for node, params_file in SIM_NODES.items():
        set_here = {parameter: LaunchConfiguration(name) for name, arg in SIM_ARGUMENTS.items()
                    for target, parameter in arg.sets if target == node}
        nodes.append(Node(package="cliport_ros", executable=node, name=node, output="screen",
                          parameters=[os.path.join(config, params_file), *([set_here] if set_here else [])]))
    return LaunchDescription([*arguments, *nodes])
