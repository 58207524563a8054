"""Audio: loading any file ffmpeg reads, features for the model, TTS."""
from .io import load_audio, save_wav

__all__ = ["load_audio", "save_wav"]
