"""Dashboards and reports: panel SQL written once, rendered to Grafana and the terminal."""
