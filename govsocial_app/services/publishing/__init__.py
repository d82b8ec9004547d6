"""Publishing: a post from the composer to the network.

Flow: composer validates and saves a post and its per-profile targets, then asks approvals to route it;
lifecycle holds the post's states (lock, editable, release to the sender) and views reads them back;
actions are what a person does to a saved post (reschedule, held, discard, retry); slots plan queue times;
sender (the publishing job) is the only thing that sends, and pause stops it. calendar, campaigns and ical
show the plan. Nothing is re-exported: import the module you mean."""
