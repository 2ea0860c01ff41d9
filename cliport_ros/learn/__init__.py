"""Demonstration datasets, training and evaluation (no ROS)."""
