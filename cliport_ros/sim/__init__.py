"""A headless PyBullet tabletop that stands in for the real arm and cameras.

Ravens geometry (DESIGN §4): robot base at the origin, the workspace table in
front of it, three RGB-D cameras from ``config/cameras_ravens.yaml``.
"""
