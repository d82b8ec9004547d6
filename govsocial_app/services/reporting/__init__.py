"""Reporting: numbers about the inbox and the posts, on screen, as CSV and as PDF.

Flow: metrics collects network numbers (profile and post metrics) and computes the shared aggregates;
reports builds each report's rows from them; pdf lays a report out for print; schedule mails reports on a
timetable. Nothing is re-exported: import the module you mean."""
