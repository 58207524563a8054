"""Stage II synthesis backends: prompt + line in, talking clip out."""
