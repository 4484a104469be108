-- Stock counts that disagree with the ledger: one row per reconciliation finding, so the build log
-- counts them. A warning, not an error: single wrong counts happen (a miscount, a late scan); the
-- share_at_most test on inventory_daily fails the build when they stop being rare (docs/marts.md).
{{ config(severity='warn') }}

select
    store_id,
    date,
    warehouse_id,
    product_id,
    on_hand,
    counted_on_hand,
    count_difference
from {{ ref('inventory_daily') }}
where has_count_mismatch
