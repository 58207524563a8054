"""talkstyle.model"""
