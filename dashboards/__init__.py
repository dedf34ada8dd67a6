"""Dashboards and reports: every panel written once (:mod:`.catalog`, SQL beside it in ``sql/``), rendered to Grafana
JSON (:mod:`.grafana`), pushed to a Grafana (:mod:`.push`), drawn in a self-contained HTML report (:mod:`.html`) and
read by ``aitrail usage`` (:mod:`.reports`) and ``aitrail report`` (:mod:`.team_report`), all with the SQL the
Grafana ClickHouse data source runs (:mod:`.macros`)."""
