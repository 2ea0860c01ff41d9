"""rclpy nodes: ROS plumbing only; every behaviour worth testing lives in the core packages."""
