"""Quality of service the nodes agree on."""

from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy

# The newest message is kept for late joiners: a policy started after perception still gets a heightmap.
LATCHED = QoSProfile(depth=1, durability=DurabilityPolicy.TRANSIENT_LOCAL, reliability=ReliabilityPolicy.RELIABLE)
