"""Reporting: numbers about the inbox and the posts, on screen, as CSV and as PDF.

Flow: metrics collects network numbers (profile and post metrics) and computes the shared aggregates;
one module per report (report_tags, report_posts, report_profiles, report_inbox, on report_base) builds its rows
from them, and reports.py is their one door (build, CSV); pdf lays a report out for print; schedule mails reports on
a timetable. Nothing is re-exported from this package: import the module you mean."""
