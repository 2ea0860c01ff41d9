"""From a decided pick-and-place to arm motion: actions, waypoints, kinematics, trajectories (no ROS)."""
