"""`python -m talkstyle` is the `talkstyle` command."""
from .cli import main

main()
