"""RGB-D cameras -> points in the robot base frame -> fused top-down heightmap.

Pure numpy; never imports rclpy, so training, evaluation and the simulator
share exactly the geometry the ROS perception node uses.
"""
