"""talkstyle: speech-driven 3D facial animation with style control."""
from .errors import TalkstyleError
from .face import ARKIT_NAMES, FaceMotion

__version__ = "0.1.0"
__all__ = ["ARKIT_NAMES", "FaceMotion", "TalkstyleError", "__version__"]
