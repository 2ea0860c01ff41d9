"""ROS plumbing the nodes share: message conversions, parameters from dataclasses, camera publishing, DDS set-up."""
