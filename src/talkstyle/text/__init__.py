"""talkstyle.text"""
