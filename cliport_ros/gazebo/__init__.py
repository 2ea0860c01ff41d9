"""Gazebo Sim (Harmonic or later) files for the same stack: robot descriptions, world, scene export, gripper.

Everything here is generated from the arm profiles (``execution/arms.py``), the camera YAML and the
simulator's task scenes, so Gazebo and the bundled PyBullet simulator describe one robot and one table.
Nothing here imports Gazebo or rclpy: the files are checked structurally where Gazebo is not installed.
"""
