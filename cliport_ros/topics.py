"""Topic (and service) names the nodes agree on (relative, so a namespace or a remap moves them all), written once."""

HEIGHTMAP = "heightmap"  # cliport_ros/Heightmap, latched: perception_node -> policy_node, executor_node
HEIGHTMAP_PREVIEW = "heightmap/color"  # sensor_msgs/Image of the colormap, for RViz
AFFORDANCE = "policy/affordance"  # sensor_msgs/Image: the scene with the policy's pick and place maps
MARKERS = "policy/markers"  # visualization_msgs/MarkerArray: arrows at the pick and the place
DECISION = "policy/decision"  # cliport_ros/PickPlace: what the policy decided, before it is executed
EXECUTOR_HEARTBEAT = "executor/heartbeat"  # std_msgs/Header at HEARTBEAT_RATE: executor_node is alive
POLICY_HEARTBEAT = "policy/heartbeat"  # std_msgs/Header at HEARTBEAT_RATE: policy_node is alive
HEARTBEAT_RATE = 10.0  # Hz
# s without a heartbeat after which a node that beats counts as dead (DDS itself notices a killed process only
# after its lease, 20 s by default)
HEARTBEAT_TIMEOUT = 5.0
# s a node waits for a service it needs to be discovered before calling it absent: a node (re)started on a busy
# machine can take several seconds to discover the others' services (seen: more than 4.7 s on 2 cores)
SERVICE_DISCOVERY_WAIT = 10.0
EXECUTOR_PROGRESS = "executor/progress"  # cliport_ros/ExecutionProgress: the plan running, at each segment
EXECUTOR_CANCEL = "executor/cancel"  # std_srvs/Trigger service: stop the plan running, hold the arm
INSTRUCT = "instruct"  # the Instruct service and the Instruct action (feedback, cancel) of policy_node
