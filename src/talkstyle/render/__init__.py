"""talkstyle.render"""
