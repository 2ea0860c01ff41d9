"""What a user runs on top of the nodes: the process stack, the terminal client and the demos."""
