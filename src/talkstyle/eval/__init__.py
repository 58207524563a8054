"""talkstyle.eval"""
