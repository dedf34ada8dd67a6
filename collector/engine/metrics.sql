-- otel_metrics_<kind> rows from spooled OTLP ExportMetricsServiceRequests, parsed by ClickHouse itself (the Protobuf
-- format with the schema aitrail.collector.engine.schema derives), as the contrib ClickHouse exporter writes them:
-- one row per data point of the metrics of one kind (`kind`: gauge, sum, histogram, exponential_histogram, summary),
-- the kind's own columns in `point_columns`. The dollar-brace macros are expanded by engine.metrics. The tenant is the
-- one the collector established (`tenant`, beside each request); so is the team when the token fixes one (`team`, ''
-- when it does not): the payload's own claims to either are dropped from the resource and the data points.
SELECT
    resource_attributes AS ResourceAttributes,
    resource_schema_url AS ResourceSchemaUrl,
    sm.scope.name AS ScopeName,
    sm.scope.version AS ScopeVersion,
    ${scope_attributes} AS ScopeAttributes,
    sm.scope.dropped_attributes_count AS ScopeDroppedAttrCount,
    sm.schema_url AS ScopeSchemaUrl,
    ResourceAttributes['service.name'] AS ServiceName,
    m.name AS MetricName,
    m.description AS MetricDescription,
    m.unit AS MetricUnit,
    ${point_attributes} AS Attributes,
    fromUnixTimestamp64Nano(toInt64(least(p.start_time_unix_nano, 9223372036854775807))) AS StartTimeUnix,
    fromUnixTimestamp64Nano(toInt64(least(p.time_unix_nano, 9223372036854775807))) AS TimeUnix,
    ${point_columns}
FROM (
    -- A resource's attributes once per resource, not once per data point.
    SELECT team, rs.scope_metrics AS scope_metrics, rs.schema_url AS resource_schema_url,
           ${resource_attributes} AS resource_attributes
    FROM ${source}
    ARRAY JOIN request.resource_metrics AS rs
)
ARRAY JOIN scope_metrics AS sm
ARRAY JOIN arrayFilter(m -> m.data = '${kind}', sm.metrics) AS m
ARRAY JOIN arrayFilter(p -> ${valid}, m.${kind}.data_points) AS p
