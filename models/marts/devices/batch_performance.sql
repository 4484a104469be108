-- Every batch/lot of a connected product a store sold, with its recall flag. The rule is defined
-- once, in int_batches_evaluated, which inventory_daily reads too (recalled units on hand).
with batches as (

    select * from {{ ref('int_batches_evaluated') }}

)

select
    store_id,
    product_id,
    lot_number,
    units_sold,
    units_activated,
    units_returned,
    adverse_events,
    adverse_events_per_1000_units,
    is_recall_flagged
from batches
