"""The prompt policy: what may be generated here, decided at submission (allow, hold for
review, reject with a reason), and the moderation states a prompt moves through.

This is the half of moderation that runs before anything exists, so it sits below studio
(which calls it when a prompt is submitted). The other half, people's reports and decisions
on what already exists, is webapp/moderation, above the arena. Not a Django app: no models.
"""
