"""Every write to the catalogue: records, copies, authorities and collections, each leaving
an audit trail."""

from kitobxon.catalogue.services.authorities import delete_authority, save_authority
from kitobxon.catalogue.services.collections import (
    CollectionCodeTaken,
    CollectionNotEmpty,
    InvalidCollection,
    create_collection,
    delete_collection,
    set_record_collections,
    update_collection,
)
from kitobxon.catalogue.services.items import (
    ITEM_FIELDS,
    add_item,
    ensure_branch,
    new_barcode,
    set_item_status,
    update_item,
)
from kitobxon.catalogue.services.records import (
    RECORD_FIELDS,
    Saved,
    create_record,
    delete_record,
    edit_record,
    fingerprint,
    import_progress,
    queue_import,
    refresh_statistics,
    save_records,
    set_status,
    validate,
)

__all__ = [
    "ITEM_FIELDS",
    "RECORD_FIELDS",
    "CollectionCodeTaken",
    "CollectionNotEmpty",
    "InvalidCollection",
    "Saved",
    "add_item",
    "create_collection",
    "create_record",
    "delete_authority",
    "delete_collection",
    "delete_record",
    "edit_record",
    "ensure_branch",
    "fingerprint",
    "import_progress",
    "new_barcode",
    "queue_import",
    "refresh_statistics",
    "save_authority",
    "save_records",
    "set_item_status",
    "set_record_collections",
    "set_status",
    "update_collection",
    "update_item",
    "validate",
]
