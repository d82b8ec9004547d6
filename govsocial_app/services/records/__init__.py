"""The public record (issue 16): hash chains, legal holds, retention and disposal, public-records requests and exports,
the comment policy (policy.py) and moderation (moderation.py).

Moderation actions are one more record type (`retention.RECORD_TYPES["moderation_action"]`), and each finished action
is sealed into the "archive" chain as a message version (change "moderation": the message as it stood and the action),
so holds, schedules, certificates and exports cover them without new machinery. The inbox card and the moderation
report read the moderation tables directly: records/ sits above inbox and reporting in the domain order."""
