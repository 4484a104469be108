{% set first_day = "cast('" ~ var('calendar_start') ~ "' as date)" %}
{% set end_day = "cast('" ~ var('calendar_end') ~ "' as date)" %}

with days as (

    {{ dbt.date_spine('day', first_day, end_day) }}

)

select
    cast(date_day as date) as date,
    extract(year from date_day) as year,
    extract(month from date_day) as month,
    cast({{ dbt.date_trunc('week', 'date_day') }} as date) as week_start_date,
    cast({{ dbt.date_trunc('month', 'date_day') }} as date) as month_start_date,
    {{ iso_day_of_week('date_day') }} as iso_day_of_week,
    {{ iso_day_of_week('date_day') }} in (6, 7) as is_weekend
from days
