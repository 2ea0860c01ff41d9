"""cliport_ros: language-conditioned pick-and-place (CLIPort) for ROS 2 arms.

rosidl generates ``cliport_ros.msg`` and ``cliport_ros.srv`` into the installed
copy of this package (``install/.../site-packages/cliport_ros``). When the
source tree shadows it (running from the repository root), ``extend_path``
lets Python find those generated subpackages in the installed copy too.
"""

from pkgutil import extend_path

__path__ = extend_path(__path__, __name__)
__version__ = "0.1.0"
