"""Lists an Iceberg table's snapshots and counts its rows with pyiceberg (a reader nobody here wrote).

  bash infra/local/python-tools.sh      # once: installs pyiceberg into .local-stack/python-tools
  .local-stack/python-tools/bin/python scripts/lake/iceberg_snapshots.py orders.order-placed.v1

LAKE_URL (default s3://securecart-lake/) names the lake; S3_ENDPOINT (default http://127.0.0.1:9000,
the local stack), AWS_REGION and S3_ACCESS_KEY_ID/S3_SECRET_ACCESS_KEY reach it. The row count must
equal `npm run query -- "select count(*) from orders_order_placed_v1"`."""
import os
import sys

from pyiceberg.io import load_file_io
from pyiceberg.table import StaticTable

if len(sys.argv) != 2:
    sys.exit(__doc__)
topic = sys.argv[1]
lake = os.environ.get("LAKE_URL", "s3://securecart-lake/").rstrip("/") + "/"
props = {}
if lake.startswith("s3://"):
    props = {
        "s3.region": os.environ.get("AWS_REGION", "us-east-1"),
        "s3.access-key-id": os.environ.get("S3_ACCESS_KEY_ID", "securecart-local"),
        "s3.secret-access-key": os.environ.get("S3_SECRET_ACCESS_KEY", "securecart-local-secret"),
    }
    # The local stack by default; S3_ENDPOINT= (empty) means AWS itself.
    endpoint = os.environ.get("S3_ENDPOINT", "http://127.0.0.1:9000")
    if endpoint:
        props["s3.endpoint"] = endpoint
metadata_dir = f"{lake}curated/{topic}/metadata"
io = load_file_io(props, metadata_dir)
try:
    with io.new_input(f"{metadata_dir}/version-hint.text").open() as f:
        version = f.read().decode().strip()
except FileNotFoundError:
    sys.exit(f"no Iceberg table at {metadata_dir} (LAKE_TABLE_FORMAT=iceberg for {topic}, then compact an hour)")
table = StaticTable.from_metadata(f"{metadata_dir}/v{version}.metadata.json", properties=props)
print(f"{topic}: {table.metadata_location}")
for s in table.snapshots():
    summary = s.summary
    field = lambda key: (summary.get(key) if summary else None) or "0"  # noqa: E731
    operation = summary.operation.value if summary else "?"
    print(f"  snapshot {s.snapshot_id} seq {s.sequence_number} {operation}: +{field('added-records')} -{field('deleted-records')} rows, total {field('total-records')}")
print(f"rows: {table.scan().to_arrow().num_rows}")
