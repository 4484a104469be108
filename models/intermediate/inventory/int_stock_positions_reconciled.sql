-- One row per store-local day and stock position (warehouse x product), every day from the
-- position's opening count to its store's latest ledger entry or count. On hand comes from the ledger:
-- on_hand(t) = on_hand(t - 1) + adjustments(t), starting from the position's earliest count.
-- Each later count is compared with it; a difference is a reconciliation finding, reported here
-- and never used to correct the ledger. Anchoring on the ledger (not on yesterday's count) makes
-- one wrong count one finding, instead of two (its own day and the next).
{% set calendar_start = "cast('" ~ var('calendar_start') ~ "' as date)" %}
{% set calendar_end = "cast('" ~ var('calendar_end') ~ "' as date)" %}

with adjustments as (

    {{ with_local_date(ref('stg_inventory__adjustments'), 'adjusted_at', 'adjustment_date') | indent(4) }}

),

snapshots as (

    select * from {{ ref('stg_inventory__stock_snapshots') }}

),

calendar as (

    {{ dbt.date_spine('day', calendar_start, calendar_end) | indent(4) }}

),

adjustments_per_day as (

    select
        store_id,
        warehouse_id,
        product_id,
        adjustment_date as date,
        cast(sum(case when adjustment_type = 'receipt' then quantity_delta else 0 end) as {{ dbt.type_bigint() }})
            as units_received,
        cast(-sum(case when adjustment_type = 'sale' then quantity_delta else 0 end) as {{ dbt.type_bigint() }})
            as units_sold,
        cast(sum(case when adjustment_type = 'return' then quantity_delta else 0 end) as {{ dbt.type_bigint() }})
            as units_returned,
        cast(-sum(case when adjustment_type = 'shrinkage' then quantity_delta else 0 end) as {{ dbt.type_bigint() }})
            as units_shrunk,
        cast(
            sum(
                case when adjustment_type = 'manual_correction' then quantity_delta else 0 end
            ) as {{ dbt.type_bigint() }}
        )
            as units_corrected,
        cast(sum(quantity_delta) as {{ dbt.type_bigint() }}) as net_change
    from adjustments
    group by
        store_id,
        warehouse_id,
        product_id,
        adjustment_date

),

position_days as (

    select
        store_id,
        warehouse_id,
        product_id,
        snapshot_date as date,
        true as is_counted
    from snapshots
    union all
    select
        store_id,
        warehouse_id,
        product_id,
        date,
        false as is_counted
    from adjustments_per_day

),

positions as (

    -- a position never counted opens with 0 units the day before its first ledger entry
    select
        store_id,
        warehouse_id,
        product_id,
        coalesce(
            min(case when is_counted then date end),
            {{ dbt.dateadd('day', -1, 'min(date)') }}
        ) as opening_date
    from position_days
    group by
        store_id,
        warehouse_id,
        product_id

),

store_last_days as (

    -- every position runs to its store's latest day, so a store's days are complete
    select
        store_id,
        max(date) as last_date
    from position_days
    group by store_id

),

spine as (

    select
        positions.store_id,
        positions.warehouse_id,
        positions.product_id,
        positions.opening_date,
        cast(calendar.date_day as date) as date
    from positions
    inner join store_last_days
        on positions.store_id = store_last_days.store_id
    inner join calendar
        on
            positions.opening_date <= calendar.date_day
            and store_last_days.last_date >= calendar.date_day

),

daily as (

    select
        spine.store_id,
        spine.warehouse_id,
        spine.product_id,
        spine.date,
        spine.date = spine.opening_date as is_opening_count,
        coalesce(adjustments_per_day.units_received, 0) as units_received,
        coalesce(adjustments_per_day.units_sold, 0) as units_sold,
        coalesce(adjustments_per_day.units_returned, 0) as units_returned,
        coalesce(adjustments_per_day.units_shrunk, 0) as units_shrunk,
        coalesce(adjustments_per_day.units_corrected, 0) as units_corrected,
        coalesce(adjustments_per_day.net_change, 0) as net_change,
        -- the opening count already includes its own day's entries
        case
            when spine.date > spine.opening_date then coalesce(adjustments_per_day.net_change, 0) else 0
        end as ledger_change,
        snapshots.on_hand as counted_on_hand,
        case when spine.date = spine.opening_date then coalesce(snapshots.on_hand, 0) else 0 end as opening_on_hand
    from spine
    left join adjustments_per_day
        on
            spine.warehouse_id = adjustments_per_day.warehouse_id
            and spine.product_id = adjustments_per_day.product_id
            and spine.date = adjustments_per_day.date
    left join snapshots
        on
            spine.warehouse_id = snapshots.warehouse_id
            and spine.product_id = snapshots.product_id
            and spine.date = snapshots.snapshot_date

),

ledger as (

    select
        *,
        cast(sum(opening_on_hand + ledger_change) over (
            partition by warehouse_id, product_id
            order by date
            rows between unbounded preceding and current row
        ) as {{ dbt.type_bigint() }}) as on_hand
    from daily

)

select
    store_id,
    warehouse_id,
    product_id,
    date,
    is_opening_count,
    units_received,
    units_sold,
    units_returned,
    units_shrunk,
    units_corrected,
    net_change,
    on_hand,
    counted_on_hand,
    counted_on_hand - on_hand as count_difference,
    counted_on_hand <> on_hand as has_count_mismatch
from ledger
