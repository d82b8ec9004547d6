"""The public record (issue 16): hash chains, legal holds, retention and disposal, public-records requests and exports.

Moderation actions (issue 16 items 1-4, built elsewhere) join this package as one more record type: register it in
`retention.RECORD_TYPES` (how to find, date, describe and dispose of it) and seal each action into the "archive"
chain as a message version, so holds, schedules, certificates and exports cover it without new machinery."""
