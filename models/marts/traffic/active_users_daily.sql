with active_visitors as (

    select * from {{ ref('int_visitors_active_daily') }}

)

select
    store_id,
    date,
    dau,
    wau,
    mau,
    {{ ratio('dau', 'mau') }} as stickiness
from active_visitors
{%- if is_incremental() %}
-- days the retention purge closed keep the rows built before it
where not {{ closed_by_purge('date', trailing_days=29) }}
{%- endif %}
