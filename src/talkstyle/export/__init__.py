"""talkstyle.export"""
