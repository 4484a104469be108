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
{{ open_days_only('date', 29) }}
