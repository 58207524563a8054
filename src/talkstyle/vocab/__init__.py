"""The shared vocabulary: style attributes, prompt words, phones, head gestures (the bottom layer)."""
