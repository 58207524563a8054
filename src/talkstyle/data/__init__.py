"""The data engine: prompts (I), synthesis (II), filter (III), capture (IV), augmentation (V), store."""
