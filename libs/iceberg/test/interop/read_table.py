"""Reads an Iceberg table written by libs/iceberg with readers nobody here wrote: pyiceberg (+ pyarrow)
and DuckDB's iceberg extension (loaded from its PyPI wheel: the extension CDN is not reachable in CI).
Prints one JSON document of facts (row counts, distinct ids, column types, snapshots, time travel) for
the jest e2e test to assert on. Usage: python read_table.py '<json request>'"""
import json
import os
import sys

import duckdb
import pyarrow.compute as pc
from pyiceberg.table import StaticTable

request = json.loads(sys.argv[1])


def duckdb_connection():
    import duckdb_extension_avro
    import duckdb_extension_httpfs
    import duckdb_extension_iceberg
    con = duckdb.connect(config={"autoinstall_known_extensions": "false", "autoload_known_extensions": "false"})
    for module in (duckdb_extension_avro, duckdb_extension_httpfs, duckdb_extension_iceberg):
        folder = os.path.join(os.path.dirname(module.__file__), "extensions", "v" + duckdb.__version__)
        con.execute(f"LOAD '{os.path.join(folder, os.listdir(folder)[0])}'")
    return con


if "tables" in request:
    # Many small tables (file:// only): rows and column types as each reader sees them.
    con = duckdb_connection()
    out = {}
    for location in request["tables"]:
        arrow = StaticTable.from_metadata(location).scan().to_arrow()
        path = location[len("file://"):]
        rows = con.execute(f"SELECT count(*) FROM iceberg_scan('{path}')").fetchone()[0]
        out[location] = {
            "rows": arrow.num_rows,
            "arrow_types": {name: str(arrow.schema.field(name).type) for name in arrow.column_names},
            "rows_as_python": len(arrow.to_pylist()),
            "duckdb_rows": rows,
        }
    print(json.dumps(out))
    sys.exit(0)

metadata = request["metadata"]
s3 = request.get("s3")
props = {}
if s3:
    props = {
        "s3.endpoint": s3["endpoint"],
        "s3.access-key-id": s3.get("accessKeyId", "test"),
        "s3.secret-access-key": s3.get("secretAccessKey", "test"),
        "s3.region": s3.get("region", "us-east-1"),
        "s3.force-virtual-addressing": "false",
    }

table = StaticTable.from_metadata(metadata, properties=props)
facts = {"snapshots": [], "schema": [], "current": None, "at": {}, "duckdb": None}
for snap in table.snapshots():
    facts["snapshots"].append({
        "id": str(snap.snapshot_id),
        "parent": None if snap.parent_snapshot_id is None else str(snap.parent_snapshot_id),
        "operation": snap.summary.operation.value if snap.summary else None,
        "sequence": snap.sequence_number,
    })
for field in table.schema().fields:
    facts["schema"].append({"id": field.field_id, "name": field.name, "type": str(field.field_type)})
facts["partition_spec"] = [{"name": f.name, "transform": str(f.transform), "field_id": f.field_id, "source_id": f.source_id} for f in table.spec().fields]


def describe(arrow):
    event_ids = arrow.column("eventId")
    out = {
        "rows": arrow.num_rows,
        "distinct": len(pc.unique(event_ids)),
        "arrow_types": {name: str(arrow.schema.field(name).type) for name in arrow.column_names},
        "non_null": {name: arrow.num_rows - arrow.column(name).null_count for name in arrow.column_names},
    }
    if arrow.num_rows:
        first = arrow.sort_by("eventId").slice(0, 1).to_pylist()[0]
        out["first"] = {k: (str(v) if v is not None else None) for k, v in first.items() if k in ("eventId", "occurredAt", "grandTotal", "orderId", "_offset", "channel")}
        out["first_line_items"] = len(first.get("lineItems") or [])
    hours = pc.value_counts(pc.strftime(arrow.column("occurredAt"), format="%Y-%m-%dT%H"))
    out["by_hour"] = {str(v["values"]): v["counts"] for v in hours.to_pylist()}
    return out


facts["current"] = describe(table.scan().to_arrow())
for snapshot_id in request.get("at", []):
    facts["at"][snapshot_id] = describe(table.scan(snapshot_id=int(snapshot_id)).to_arrow())

# A filter on the partition source must prune by the hour partition and the column bounds, and still be right.
flt = request.get("hour_filter")
if flt:
    scan = table.scan(row_filter=f"occurredAt >= '{flt['from']}' and occurredAt < '{flt['to']}'")
    facts["filtered"] = {"files": len(list(scan.plan_files())), "rows": scan.to_arrow().num_rows}

if request.get("duckdb", True):
    con = duckdb_connection()
    if s3:
        endpoint = s3["endpoint"].split("://", 1)[1]
        con.execute(
            f"CREATE SECRET lake (TYPE s3, KEY_ID '{props['s3.access-key-id']}', SECRET '{props['s3.secret-access-key']}', "
            f"REGION '{props['s3.region']}', ENDPOINT '{endpoint}', URL_STYLE 'path', USE_SSL {str(s3['endpoint'].startswith('https')).lower()})"
        )
    source = metadata[len("file://"):] if metadata.startswith("file://") else metadata
    rel = f"iceberg_scan('{source}')"
    rows, distinct = con.execute(f"SELECT count(*), count(DISTINCT eventId) FROM {rel}").fetchone()
    types = {name: str(t) for name, t, *_ in con.execute(f"DESCRIBE SELECT * FROM {rel}").fetchall()}
    total = con.execute(f"SELECT sum(grandTotal)::VARCHAR FROM {rel}").fetchone()[0]
    facts["duckdb"] = {"rows": rows, "distinct": distinct, "types": types, "grand_total": total}
    if request.get("at"):
        snap = request["at"][0]
        facts["duckdb"]["at"] = {snap: con.execute(f"SELECT count(*) FROM iceberg_scan('{source}', snapshot_from_id => {snap})").fetchone()[0]}

print(json.dumps(facts))
